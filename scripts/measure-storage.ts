/**
 * Measures what one signed payment costs in storage on PostgreSQL: journal and outbox bytes per
 * payment (table + index + TOAST, from pg_total_relation_size), after N payments between wallets
 * of two banks through a real `tengri start --db`. Used for the numbers in docs/DEPLOYMENT.md.
 *
 *   npx tsx scripts/measure-storage.ts [--payments 5000] [--db postgres://postgres@127.0.0.1:5432/test]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { client, onboardBank, openWallet, signedPayment } from '../test/support/platform.ts';

const { values } = parseArgs({ options: { payments: { type: 'string', default: '5000' }, db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' } } });
const payments = Number(values.payments);
const schema = `measure_${randomBytes(4).toString('hex')}`;
const token = 'measure-token-0123456789';
const child = spawn(process.execPath, ['bin/tengri.js', 'start', '--data', mkdtempSync(join(tmpdir(), 'tengri-measure-')), '--port', '0', '--db', values.db!, '--db-schema', schema], {
  env: { ...process.env, TENGRI_ADMIN_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve) => {
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const match = /"url":"([^"]+)"[^\n]*"msg":"listening"/.exec(buffered);
    if (match !== null) resolve(match[1]!);
  });
});
const raw = client(url);
const http = { base: url, call: <T>(method: string, path: string, body?: unknown, bearer?: string | null) => raw.call<T>(method, path, body, bearer === undefined ? token : bearer) };
const keyA = await onboardBank(http, 'ma', 'MEASKZKA', { reserves: 10n ** 12n, issue: 10n ** 11n });
const keyB = await onboardBank(http, 'mb', 'MEBSKZKA', { reserves: 10n ** 12n, issue: 10n ** 11n });
const holders = await Promise.all(Array.from({ length: 8 }, (_, i) => openWallet(http, i % 2 === 0 ? keyA : keyB, { fund: 10n ** 8n })));
const db = new pg.Client({ connectionString: values.db });
await db.connect();
const size = async () => {
  const r = await db.query(`SELECT pg_total_relation_size('${schema}.journal')::float8 AS journal, pg_total_relation_size('${schema}.outbox')::float8 AS outbox, (SELECT count(*) FROM ${schema}.outbox)::float8 AS rows`);
  return r.rows[0] as { journal: number; outbox: number; rows: number };
};
await db.query('CHECKPOINT');
const before = await size();
let done = 0;
await Promise.all(
  holders.map(async (from, i) => {
    const to = holders[(i + 1) % holders.length]!;
    while (done < payments) {
      done++;
      const answer = await http.call('POST', '/v1/payments', signedPayment(from, { to: to.id, amount: 1n }), null);
      if (answer.status !== 201) throw new Error(JSON.stringify(answer.json));
    }
  }),
);
await db.query(`VACUUM ANALYZE ${schema}.journal, ${schema}.outbox`);
const after = await size();
const report = {
  payments: done,
  journalBytesPerPayment: Math.round((after.journal - before.journal) / done),
  outboxBytesPerPayment: Math.round((after.outbox - before.outbox) / done),
  outboxRowsPerPayment: (after.rows - before.rows) / done,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
child.kill('SIGTERM');
await new Promise((resolve) => child.on('exit', resolve));
await db.query(`DROP SCHEMA ${schema} CASCADE`);
await db.end();
