/**
 * Builds the OpenAPI document from the route schemas, against a throw-away ledger. Shared by
 * `npm run openapi` (which writes docs/openapi.json) and the test that fails when the committed
 * copy drifts from the code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/api/app.ts';
import { openEngine } from '../src/engine/engine.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';

export async function openApiDocument(): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'tengri-openapi-'));
  const store = new SqliteStore(join(directory, 'ledger.sqlite'));
  const { sequencer } = await openEngine(store);
  const app = await buildApp({ sequencer, adminToken: 'openapi-document-token', storeKind: store.kind });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await sequencer.close();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
