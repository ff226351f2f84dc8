// Proves `tengri verify` checks the event outbox against the journal: after a real server wrote a
// ledger with payments, the outbox holds exactly the events replay produces; a changed, removed or
// added outbox row is reported as a fault, while a pruned prefix (rows a relay has published and
// an operator deleted) is accepted.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, onboardBank, openWallet, pay } from './support/platform.ts';
import { removeScratchDirectories, runCli, scratchDirectory, spawnServer } from './support/servers.ts';
import { cpSync } from 'node:fs';

let source: string;
afterAll(removeScratchDirectories);

beforeAll(async () => {
  source = scratchDirectory();
  const server = await spawnServer(source);
  const http = client(server.url);
  const key = await onboardBank(http, 'ob-bank', 'OUTBKZKA', { reserves: 10_000_000n, issue: 5_000_000n });
  const payer = await openWallet(http, key, { fund: 100_000n });
  const payee = await openWallet(http, key);
  for (let i = 0; i < 5; i++) expect((await pay(http, payer, { to: payee.id, amount: 100n })).status).toBe(201);
  server.child.kill('SIGTERM');
  await server.exited;
}, 60_000);

/** A copy of the ledger, changed by `tamper` through SQL. */
function tampered(tamper: (db: Database.Database) => void): string {
  const copy = scratchDirectory();
  cpSync(source, copy, { recursive: true });
  const db = new Database(join(copy, 'ledger.sqlite'));
  tamper(db);
  db.close();
  return copy;
}

async function verify(directory: string): Promise<{ code: number; report: { ok: boolean; error: string | null } }> {
  const run = await runCli(['verify', '--data', directory, '--json']);
  return { code: run.code, report: JSON.parse(run.stdout) as { ok: boolean; error: string | null } };
}

describe('tengri verify and the outbox', () => {
  it('accepts the outbox the server wrote: one row per event, for every batch that produced one', async () => {
    const db = new Database(join(source, 'ledger.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT id FROM outbox ORDER BY sequence, idx').all() as { id: string }[];
    db.close();
    // onboarded, reserves, issuance, 2 × wallet.opened, credited, funded, 5 × (sent + received)
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 17 }, (_, i) => `ob-bank:${i + 1}`));
    expect(await verify(source)).toMatchObject({ code: 0, report: { ok: true } });
  });

  it('reports a changed payload, a removed row in the middle and an extra row', async () => {
    const changed = tampered((db) => db.prepare("UPDATE outbox SET payload = replace(payload, '\"100\"', '\"900\"') WHERE id = 'ob-bank:9'").run());
    expect(await verify(changed)).toMatchObject({ code: 1, report: { ok: false, error: expect.stringMatching(/outbox does not hold event ob-bank:9/) } });
    const removed = tampered((db) => db.prepare("DELETE FROM outbox WHERE id = 'ob-bank:12'").run());
    expect(await verify(removed)).toMatchObject({ code: 1, report: { ok: false, error: expect.stringMatching(/outbox/) } });
    const extra = tampered((db) => {
      const row = db.prepare("SELECT sequence, idx FROM outbox WHERE id = 'ob-bank:10'").get() as { sequence: number; idx: number };
      db.prepare("INSERT INTO outbox (sequence, idx, id, key, payload) VALUES (?, 99, 'ob-bank:999', 'ob-bank', '{}')").run(row.sequence);
    });
    expect(await verify(extra)).toMatchObject({ code: 1, report: { ok: false, error: expect.stringMatching(/ob-bank:999/) } });
  });

  it('accepts a pruned prefix', async () => {
    const pruned = tampered((db) => {
      const row = db.prepare("SELECT sequence FROM outbox WHERE id = 'ob-bank:8'").get() as { sequence: number };
      db.prepare('DELETE FROM outbox WHERE sequence < ?').run(row.sequence);
    });
    expect(await verify(pruned)).toMatchObject({ code: 0, report: { ok: true } });
  });
});
