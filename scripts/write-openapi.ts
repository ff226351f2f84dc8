/** `npm run openapi`: regenerate docs/openapi.json from the route schemas. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from './openapi-document.ts';

const path = join(import.meta.dirname, '..', 'docs', 'openapi.json');
writeFileSync(path, await openApiDocument());
process.stdout.write(`wrote ${path}\n`);
