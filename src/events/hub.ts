/**
 * Fans committed platform events out to live subscribers (server-sent event streams, webhook
 * deliveries). The platform numbers events per bank as it applies commands; the hub only passes
 * on events whose batch is durable: it takes them in the sequencer's `onBatch`, which runs after
 * the append and before the next batch is applied. `committed(bank)` is the highest event number a
 * reader may be shown.
 */
import type { Sequencer } from '../engine/sequencer.ts';
import type { Platform } from '../platform/platform.ts';
import type { PlatformEvent } from '../platform/types.ts';

export type EventListener = (event: PlatformEvent) => void;

export class EventHub {
  private readonly committedSeq = new Map<string, number>();
  private readonly listeners = new Map<string | '*', Set<EventListener>>();

  constructor(
    private readonly platform: Platform,
    sequencer: Sequencer,
  ) {
    // Events produced while the journal was replayed are history, kept in the platform's
    // per-bank rings for catch-up; none of them is new.
    platform.takeNewEvents();
    for (const bank of platform.listBanks()) this.committedSeq.set(bank.id, platform.eventCount(bank.id));
    sequencer.observe({ onBatch: () => this.flush() });
  }

  /** Highest event number of `bank` that is durable. */
  committed(bank: string): number {
    return this.committedSeq.get(bank) ?? 0;
  }

  /** Listens to one bank's events, or to every bank's with '*'. Returns the unsubscribe function. */
  subscribe(bank: string | '*', listener: EventListener): () => void {
    let set = this.listeners.get(bank);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(bank, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  private flush(): void {
    const events = this.platform.takeNewEvents();
    for (const event of events) {
      this.committedSeq.set(event.bank, event.seq);
      for (const key of [event.bank, '*']) {
        const set = this.listeners.get(key);
        if (set === undefined) continue;
        for (const listener of set) {
          try {
            listener(event);
          } catch {
            // A failing subscriber must not stop the others or the sequencer.
          }
        }
      }
    }
  }
}

const hubs = new WeakMap<Sequencer, EventHub>();

/** The one hub of a sequencer (several HTTP apps on one engine share it). */
export function hubFor(platform: Platform, sequencer: Sequencer): EventHub {
  let hub = hubs.get(sequencer);
  if (hub === undefined) {
    hub = new EventHub(platform, sequencer);
    hubs.set(sequencer, hub);
  }
  return hub;
}
