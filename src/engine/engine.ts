/**
 * Opening a ledger: recover it from the store, create the genesis records on a first start, and
 * hand back the sequencer that is from then on its only writer.
 */
import type { AnyCommand } from '../ledger/types.ts';
import { cbReserves, reserveAsset } from '../platform/accounts.ts';
import { platformOf } from '../platform/index.ts';
import type { Platform } from '../platform/platform.ts';
import { defaultTiers } from '../platform/tiers.ts';
import { defaultCapacity } from './capacity.ts';
import { outboxEntries } from '../events/outbox.ts';
import type { Store } from '../store/store.ts';
import { recover } from './recovery.ts';
import type { SequencerOptions } from './sequencer.ts';
import { Sequencer } from './sequencer.ts';

/**
 * Created on the first start: the digital tenge and the central bank's issuance account, central
 * bank reserves (the mirror of banks' RTGS balances) and the account they are issued from, and
 * the default KYC tiers.
 */
export const genesisCommands: readonly AnyCommand[] = [
  { kind: 'create_asset', code: 'KZT', scale: 2 },
  { kind: 'create_account', id: 'cb:issuance', asset: 'KZT', allowNegative: true, maxBalance: null },
  { kind: 'create_asset', code: reserveAsset, scale: 2 },
  { kind: 'create_account', id: cbReserves, asset: reserveAsset, allowNegative: true, maxBalance: null },
  ...defaultTiers,
];

export interface OpenedEngine {
  readonly sequencer: Sequencer;
  readonly platform: Platform;
  readonly recoveredBatches: number;
  readonly recoveryMs: number;
}

export interface EngineOptions extends SequencerOptions {
  readonly genesis?: boolean;
  readonly transfersMax?: number;
  readonly accountsMax?: number;
}

/** Recovers the ledger and opens it as its writer (the genesis records on a first start). */
export async function openEngine(store: Store, options: EngineOptions = {}): Promise<OpenedEngine> {
  const opened = await openReplica(store, options);
  await promoteEngine(opened.sequencer, options);
  return opened;
}

/**
 * Recovers the ledger as a replica: it serves reads and follows the journal another process
 * writes (`sequencer.replicate`) until `promoteEngine` makes it the writer.
 */
export async function openReplica(store: Store, options: EngineOptions = {}): Promise<OpenedEngine> {
  const started = performance.now();
  const recovered = await recover(store);
  const recoveryMs = performance.now() - started;
  // No record caps while replicating: a replica must apply whatever the leader wrote (a cap
  // refusal would be a divergence). They are set on promotion, for the records this process adds.
  const platform = platformOf(recovered.ledger);
  const sequencer = new Sequencer(recovered.ledger, store, recovered.head, {
    ...options,
    replica: true,
    // The events of every batch the writer applies go into the store's outbox with the batch.
    outbox: () => outboxEntries(platform.takeOutboxEvents()),
  });
  return { sequencer, platform, recoveredBatches: recovered.batches, recoveryMs };
}

/**
 * Makes a replica the writer: from now on its batches' events are collected for the outbox, and
 * on an empty journal the genesis records are written. The caller must hold the right to write
 * (the SQLite data directory's lock, or the PostgreSQL writer lease) and have replicated every
 * batch stored before it got it.
 */
export async function promoteEngine(sequencer: Sequencer, options: Pick<EngineOptions, 'genesis' | 'transfersMax' | 'accountsMax'> = {}): Promise<void> {
  const fitting = defaultCapacity();
  sequencer.ledger.setCapacity({
    transfersMax: options.transfersMax ?? fitting.transfersMax,
    accountsMax: options.accountsMax ?? fitting.accountsMax,
  });
  platformOf(sequencer.ledger).collectOutbox();
  sequencer.promote();
  if (sequencer.journalHead === null && options.genesis !== false) {
    const results = await sequencer.submit(genesisCommands, true);
    const failed = results.find((result) => !result.ok);
    if (failed !== undefined) throw new Error(`genesis failed: ${JSON.stringify(failed)}`);
  }
}
