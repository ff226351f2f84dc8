/**
 * The platform's events as outbox entries: what the sequencer writes to the store with each batch
 * (in the same transaction) and what the relay publishes. The id is the event's stable id
 * (`<bank>:<seq>`), the key its bank (one NATS subject per bank), the payload the same JSON the
 * events API serves (`eventJson`).
 */
import { eventJsonAt } from '../api/platform-views.ts';
import { isoTime } from '../api/views.ts';
import type { PlatformEvent } from '../platform/types.ts';
import type { OutboxEntry } from '../store/store.ts';

export function outboxEntries(events: readonly PlatformEvent[]): OutboxEntry[] {
  const entries: OutboxEntry[] = [];
  // This runs on the sequencer thread. The events of a batch share one time: format it once.
  let lastAt = Number.NaN;
  let at = '';
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.at !== lastAt) {
      lastAt = event.at;
      at = isoTime(event.at);
    }
    entries.push({ id: `${event.bank}:${event.seq}`, key: event.bank, payload: JSON.stringify(eventJsonAt(event, at)) });
  }
  return entries;
}
