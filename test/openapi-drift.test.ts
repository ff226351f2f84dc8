// Proves the committed docs/openapi.json is exactly what the route schemas generate, so the
// published API description never drifts from the code (run `npm run openapi` after a change).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openApiDocument } from '../scripts/openapi-document.ts';

it('docs/openapi.json matches the generated document', async () => {
  const committed = readFileSync(join(import.meta.dirname, '..', 'docs', 'openapi.json'), 'utf8');
  const generated = await openApiDocument();
  expect(JSON.parse(committed)).toEqual(JSON.parse(generated));
  const document = JSON.parse(generated) as { openapi: string; paths: Record<string, unknown> };
  expect(document.openapi).toBe('3.1.0');
  for (const path of ['/v1/assets', '/v1/accounts', '/v1/accounts/{id}', '/v1/accounts/{id}/transfers', '/v1/transfers', '/v1/transfers/batch', '/v1/transfers/{id}', '/v1/transfers/{id}/post', '/v1/transfers/{id}/void', '/v1/supply', '/health', '/metrics']) {
    expect(Object.keys(document.paths)).toContain(path);
  }
});
