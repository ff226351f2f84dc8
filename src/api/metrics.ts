/**
 * Prometheus metrics (platform commands are counted under their kind, e.g. `x.pay`), kept outside the engine: they observe the sequencer through its observer
 * interface (STYLE 3). Each app gets its own registry so tests can run several apps at once.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Sequencer } from '../engine/sequencer.ts';
import { Platform } from '../platform/platform.ts';

export function createMetrics(sequencer: Sequencer): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const commands = new Counter({
    name: 'tengri_commands_total',
    help: 'Commands applied by the sequencer, by kind and result code',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const batches = new Counter({ name: 'tengri_batches_total', help: 'Batches applied by the sequencer', registers: [registry] });
  const expired = new Counter({ name: 'tengri_pending_expired_total', help: 'Pending transfers voided by their timeout', registers: [registry] });
  const batchSize = new Histogram({
    name: 'tengri_batch_commands',
    help: 'Commands per batch',
    buckets: [1, 2, 8, 32, 128, 512, 2048, 8190, 32768],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'tengri_commit_seconds',
    help: 'Time to write a batch durably',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const applySeconds = new Histogram({
    name: 'tengri_apply_seconds',
    help: 'Time to apply a batch in the ledger core',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
    registers: [registry],
  });
  new Gauge({
    name: 'tengri_queue_commands',
    help: 'Commands waiting for the sequencer',
    registers: [registry],
    collect() {
      this.set(sequencer.queueDepth);
    },
  });
  new Gauge({
    name: 'tengri_journal_sequence',
    help: 'Sequence of the last durable journal batch',
    registers: [registry],
    collect() {
      this.set(sequencer.journalHead?.sequence ?? 0);
    },
  });
  new Gauge({
    name: 'tengri_accounts',
    help: 'Accounts in the ledger',
    registers: [registry],
    collect() {
      this.set(sequencer.ledger.accountCount);
    },
  });
  new Gauge({
    name: 'tengri_wallets',
    help: 'Wallets opened (of every status)',
    registers: [registry],
    collect() {
      const platform = sequencer.ledger.extension;
      this.set(platform instanceof Platform ? platform.walletCount : 0);
    },
  });
  const replicated = new Counter({ name: 'tengri_replicated_batches_total', help: 'Journal batches written by the leader and replayed by this replica', registers: [registry] });
  sequencer.observe({
    onBatch(info) {
      if (info.replicated === true) {
        replicated.inc();
        return;
      }
      batches.inc();
      batchSize.observe(info.commands.length);
      commitSeconds.observe(info.commitMs / 1000);
      applySeconds.observe(info.applyMs / 1000);
      if (info.expired.length > 0) expired.inc(info.expired.length);
      // Count per (kind, result) locally first: one label lookup per distinct pair, not per command.
      const counts = new Map<string, number>();
      for (let i = 0; i < info.commands.length; i++) {
        const result = info.results[i]!;
        const key = `${info.commands[i]!.kind}\u0000${result.ok ? (result.existed ? 'exists' : 'ok') : result.code}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, count] of counts) {
        const [kind, result] = key.split('\u0000') as [string, string];
        commands.inc({ kind, result }, count);
      }
    },
  });
  return registry;
}
