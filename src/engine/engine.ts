/**
 * Opening a ledger: recover it from the store, create the genesis records on a first start, and
 * hand back the sequencer that is from then on its only writer.
 */
import type { Command } from '../ledger/types.ts';
import { defaultCapacity } from './capacity.ts';
import type { Store } from '../store/store.ts';
import { recover } from './recovery.ts';
import type { SequencerOptions } from './sequencer.ts';
import { Sequencer } from './sequencer.ts';

/** The digital tenge and the central bank's issuance account, created on the first start. */
export const genesisCommands: readonly Command[] = [
  { kind: 'create_asset', code: 'KZT', scale: 2 },
  { kind: 'create_account', id: 'cb:issuance', asset: 'KZT', allowNegative: true, maxBalance: null },
];

export interface OpenedEngine {
  readonly sequencer: Sequencer;
  readonly recoveredBatches: number;
  readonly recoveryMs: number;
}

export interface EngineOptions extends SequencerOptions {
  readonly genesis?: boolean;
  readonly transfersMax?: number;
  readonly accountsMax?: number;
}

export async function openEngine(store: Store, options: EngineOptions = {}): Promise<OpenedEngine> {
  const started = performance.now();
  const recovered = await recover(store);
  const recoveryMs = performance.now() - started;
  const fitting = defaultCapacity();
  recovered.ledger.setCapacity({
    transfersMax: options.transfersMax ?? fitting.transfersMax,
    accountsMax: options.accountsMax ?? fitting.accountsMax,
  });
  const sequencer = new Sequencer(recovered.ledger, store, recovered.head, options);
  if (recovered.head === null && options.genesis !== false) {
    const results = await sequencer.submit(genesisCommands);
    const failed = results.find((result) => !result.ok);
    if (failed !== undefined) throw new Error(`genesis failed: ${JSON.stringify(failed)}`);
  }
  return { sequencer, recoveredBatches: recovered.batches, recoveryMs };
}
