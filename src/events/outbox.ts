/**
 * The platform's events as outbox entries: what the sequencer writes to the store with each batch
 * (in the same transaction) and what the relay publishes. The id is the event's stable id
 * (`<bank>:<seq>`), the key its bank (one NATS subject per bank), the payload the same JSON the
 * events API serves.
 */
import { eventJson } from '../api/platform-views.ts';
import type { PlatformEvent } from '../platform/types.ts';
import type { OutboxEntry } from '../store/store.ts';

export function outboxEntries(events: readonly PlatformEvent[]): OutboxEntry[] {
  const entries: OutboxEntry[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    entries[i] = { id: `${event.bank}:${event.seq}`, key: event.bank, payload: JSON.stringify(eventJson(event)) };
  }
  return entries;
}
