/**
 * What writing the outbox costs the sequencer thread: rendering the events of one batch of 8190
 * payments (16,380 events: payment.sent and payment.received) as outbox entries, with
 * `outboxEntries` and with the plain `JSON.stringify(eventJson(event))` per event it replaced.
 * Prints milliseconds per batch for both, alternating, and checks the payloads are identical.
 *
 *   npx tsx bench/outbox.bench.ts [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { eventJson } from '../src/api/platform-views.ts';
import { outboxEntries } from '../src/events/outbox.ts';
import type { PlatformEvent } from '../src/platform/types.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const at = Date.UTC(2026, 10, 25, 12, 0, 0);
const events: PlatformEvent[] = Array.from({ length: 16_380 }, (_, i) => ({
  bank: 'halyk',
  seq: i + 1,
  type: i % 2 === 0 ? 'payment.sent' : 'payment.received',
  at,
  wallet: 'w_eexs74aikzogwg6m',
  payment: `pay-${i >> 1}`,
  counterparty: 'w_snpr6mcw7ryf5hip',
  amount: 12_000_000n,
  toBankAccount: null,
  detail: null,
}));

const generic = (list: readonly PlatformEvent[]) => list.map((event) => ({ id: `${event.bank}:${event.seq}`, key: event.bank, payload: JSON.stringify(eventJson(event)) }));

function msPerBatch(render: () => unknown): number {
  for (let i = 0; i < 5; i++) render();
  const started = performance.now();
  for (let i = 0; i < 30; i++) render();
  return (performance.now() - started) / 30;
}

const a = outboxEntries(events);
const b = generic(events);
if (a.length !== b.length || a.some((entry, i) => entry.payload !== b[i]!.payload || entry.id !== b[i]!.id)) throw new Error('outboxEntries differs from JSON.stringify(eventJson(event))');
for (let round = 1; round <= Number(values.rounds); round++) {
  const before = msPerBatch(() => generic(events));
  const after = msPerBatch(() => outboxEntries(events));
  process.stdout.write(`round ${round}: JSON.stringify(eventJson) ${before.toFixed(1)} ms, outboxEntries ${after.toFixed(1)} ms per batch of 16,380 events (${(before / after).toFixed(2)}x)\n`);
}
