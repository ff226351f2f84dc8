/**
 * Platform payments in the ledger core, without I/O: how many `x.pay` commands per second the
 * sequencer thread can apply (limits, sequence, waterfall, events, journal encoding), in batches
 * of 8190 among 2,000 funded wallets, with the new events taken after every batch as the event hub
 * does. Signature verification is not part of this number (it happens before the sequencer, and is
 * measured by bench/ed25519.bench.ts); neither is the durable commit (bench/core.bench.ts).
 *
 *   npx tsx bench/platform.bench.ts [--batches 50] [--out file.json]
 */
import { parseArgs } from 'node:util';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { genesisCommands } from '../src/engine/engine.ts';
import type { AnyCommand } from '../src/ledger/types.ts';
import { createLedger, platformOf } from '../src/platform/index.ts';
import type { PlatformCommand } from '../src/platform/types.ts';
import { machineInfo, writeJson } from './support.ts';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '50' }, out: { type: 'string' } } });
const batches = Number(values.batches);
const wallets = 2000;
const batchSize = 8190;

const ledger = createLedger();
const platform = platformOf(ledger);
let time = Date.UTC(2026, 10, 25, 9);
const applyAll = (commands: readonly (AnyCommand | PlatformCommand)[]): void => {
  const outcome = ledger.apply(commands as readonly AnyCommand[], ++time);
  const rejected = outcome.results.findIndex((result) => !result.ok);
  if (rejected >= 0) throw new Error(`command ${rejected} (${commands[rejected]!.kind}) rejected: ${JSON.stringify(outcome.results[rejected])}`);
  platform.takeNewEvents();
};
applyAll(genesisCommands);
applyAll([
  { kind: 'x.register_participant', id: 'bench-bank', role: 'bank', name: 'Bench bank', bic: 'BNCHKZKA', wallet: '', keyHash: 'b'.repeat(64) },
  { kind: 'x.top_up_reserves', id: 'reserves', bank: 'bench-bank', amount: 10n ** 15n },
  { kind: 'x.issue', id: 'issue', bank: 'bench-bank', amount: 10n ** 14n },
]);
const publicKey = encodeBase64url(generateKeyPair().publicKey);
const setup: PlatformCommand[] = [];
for (let i = 0; i < wallets; i++) {
  const id = `bench-wallet-${i}`;
  setup.push({ kind: 'x.open_wallet', id, bank: 'bench-bank', publicKey, walletKind: 'individual', tier: 2, convertIncoming: false });
  setup.push({ kind: 'x.credit_account', id: `credit-${i}`, wallet: id, amount: 10n ** 8n });
  setup.push({ kind: 'x.fund', id: `fund-${i}`, wallet: id, amount: 10n ** 8n });
}
applyAll(setup);

const sequences = new Array<number>(wallets).fill(0);
let applied = 0;
let applyMs = 0;
for (let b = 0; b < batches; b++) {
  const batch: PlatformCommand[] = [];
  for (let i = 0; i < batchSize; i++) {
    const from = (b * batchSize + i) % wallets;
    const to = (from + 1 + (i % 7)) % wallets;
    batch.push({
      kind: 'x.pay',
      id: `p${b}-${i}`,
      from: `bench-wallet-${from}`,
      to: `bench-wallet-${to}`,
      amount: 100n,
      sequence: ++sequences[from]!,
      expiresAt: 0,
      reference: '',
      request: '',
      refundOf: '',
      keyVersion: 1,
    });
  }
  const started = performance.now();
  applyAll(batch);
  applyMs += performance.now() - started;
  applied += batch.length;
}
const report = {
  benchmark: 'platform payments applied in the ledger core (no I/O, no signature verification)',
  machine: machineInfo(),
  wallets,
  batchSize,
  payments: applied,
  applyMs: Math.round(applyMs),
  paymentsPerSecond: Math.round((applied / applyMs) * 1000),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
if (values.out !== undefined) writeJson(values.out, report);
