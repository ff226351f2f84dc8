/**
 * The outbox relay: publishes every event the store's outbox holds to NATS JetStream, at least
 * once, in commit order, one subject per bank (`<prefix>.<bank>`, default `tengri.events.<bank>`).
 *
 * - Each message carries the event's stable id as its `Nats-Msg-Id`, so JetStream drops a
 *   re-publication within the stream's duplicate window (2 minutes by default), and consumers
 *   de-duplicate by the same id (also in the JSON payload's `id`) beyond it.
 * - The relay's position (the last outbox entry JetStream acknowledged, with every entry before it)
 *   is saved in the store's metadata under `relay.<name>.position`. It is saved after the
 *   acknowledgements, so a relay that crashes between the two publishes some events again on
 *   restart (at least once), and never skips one.
 * - Order: a page of entries is pipelined as plain NATS publishes with a reply subject (JetStream
 *   answers each with its acknowledgement), written to the one connection in outbox order; the
 *   server stores a connection's messages in the order they arrive, so each bank's events land in
 *   the stream in commit order. (The JetStream client's own `publish` awaits before it writes, and
 *   concurrent calls were seen to land out of order.) Should the server refuse one message of a
 *   page and store later ones, the refused one is published again after them: per bank the event
 *   `seq` is gapless, so a consumer that must never see that can restore the order by it.
 * - The stream (`TENGRI_EVENTS` by default, subjects `<prefix>.>`) is created when missing. A bank
 *   that was offline reads from its JetStream consumer where it stopped (a durable consumer, or
 *   its own last stream sequence); JetStream keeps the events as long as the stream's limits say.
 *
 * A relay can run inside the writer (`tengri start --nats URL`) or as its own process
 * (`tengri relay`) reading the outbox of the same store; two relays on one store publish the same
 * events twice, which de-duplication absorbs, but run one.
 */
import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { OutboxPosition, OutboxRecord, Store } from '../store/store.ts';

export interface RelayOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string;
  readonly stream?: string;
  readonly subjectPrefix?: string;
  /** Names the saved position, so several relays (to different systems) keep their own. */
  readonly name?: string;
  /** How long to wait before looking at the outbox again when it had nothing new. */
  readonly pollMs?: number;
  /** Outbox entries read and published per round (published concurrently, acknowledged in order). */
  readonly pageSize?: number;
  readonly log?: { info(object: object, message: string): void; warn(object: object, message: string): void };
}

export const defaultStream = 'TENGRI_EVENTS';
export const defaultSubjectPrefix = 'tengri.events';
const duplicateWindowNanos = 120 * 1e9;
const ackTimeoutMs = 10_000;
const streamNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
const subjectPrefixPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function positionKey(name: string): string {
  return `relay.${name}.position`;
}

export function formatPosition(position: OutboxPosition): string {
  return `${position.sequence}.${position.index}`;
}

export function parsePosition(text: string | null): OutboxPosition | null {
  if (text === null) return null;
  const match = /^([0-9]{1,15})\.([0-9]{1,9})$/.exec(text);
  if (match === null) throw new Error(`the saved relay position ${JSON.stringify(text.slice(0, 40))} is not <sequence>.<index>`);
  return { sequence: Number(match[1]), index: Number(match[2]) };
}

export class OutboxRelay {
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private positionValue: OutboxPosition | null = null;
  private publishedCount = 0;
  private failuresInARow = 0;
  private readonly stream: string;
  private readonly prefix: string;
  private readonly name: string;
  private readonly pollMs: number;
  private readonly pageSize: number;

  /** Acknowledgements arrive on `<inbox>.<round>.<index>`. */
  private readonly inbox = createInbox();
  private readonly acks: Subscription;
  private round = 0;
  private readonly waiting = new Map<string, (message: Msg) => void>();

  private constructor(
    private readonly store: Store,
    private readonly nc: NatsConnection,
    private readonly options: RelayOptions,
  ) {
    this.acks = nc.subscribe(`${this.inbox}.>`, {
      callback: (error, message) => {
        if (error === null) this.waiting.get(message.subject)?.(message);
      },
    });
    this.stream = options.stream ?? defaultStream;
    this.prefix = options.subjectPrefix ?? defaultSubjectPrefix;
    this.name = options.name ?? 'nats';
    this.pollMs = options.pollMs ?? 100;
    this.pageSize = options.pageSize ?? 512;
  }

  /** Connects, makes sure the stream exists, and starts publishing from the saved position. */
  static async start(store: Store, options: RelayOptions): Promise<OutboxRelay> {
    const stream = options.stream ?? defaultStream;
    const prefix = options.subjectPrefix ?? defaultSubjectPrefix;
    if (!streamNamePattern.test(stream)) throw new TypeError(`stream name ${JSON.stringify(stream)} must match ${streamNamePattern}`);
    if (!subjectPrefixPattern.test(prefix)) throw new TypeError(`subject prefix ${JSON.stringify(prefix)} must be dot-separated tokens of letters, digits, _ and -`);
    const nc = await connect({ servers: options.servers.split(','), name: 'tengri-relay', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    try {
      const jsm = await jetstreamManager(nc);
      try {
        const info = await jsm.streams.info(stream);
        if (!info.config.subjects?.includes(`${prefix}.>`)) {
          throw new Error(`the JetStream stream ${stream} exists without the subjects ${prefix}.> (it has ${JSON.stringify(info.config.subjects)})`);
        }
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
        await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: duplicateWindowNanos });
      }
      const relay = new OutboxRelay(store, nc, options);
      // The acknowledgement subscription is in place before the first publish.
      await nc.flush();
      relay.positionValue = parsePosition(await store.getMeta(positionKey(relay.name)));
      relay.loop = relay.run();
      return relay;
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  /** The last outbox entry published and saved as such (null: none yet). */
  get position(): OutboxPosition | null {
    return this.positionValue;
  }

  /** Events published by this relay since it started (re-publications included). */
  get published(): number {
    return this.publishedCount;
  }

  /** Looks at the outbox now instead of at the next poll (after a commit, for example). */
  poke(): void {
    this.wake?.();
  }

  /** Stops after the round in flight (its position is saved) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.acks.unsubscribe();
    await this.nc.drain().catch(() => this.nc.close());
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let records: OutboxRecord[] = [];
      try {
        records = await this.store.readOutbox(this.positionValue, this.pageSize);
        if (records.length > 0) await this.publish(records);
        this.failuresInARow = 0;
      } catch (error) {
        this.failuresInARow++;
        // Keep going: the position only moves over acknowledged events, so a retry republishes.
        if (this.failuresInARow === 1 || this.failuresInARow % 50 === 0) {
          this.options.log?.warn({ err: error, failures: this.failuresInARow }, 'the outbox relay could not publish; retrying');
        }
      }
      if (this.stopped) break;
      if (records.length === this.pageSize && this.failuresInARow === 0) continue;
      const waitMs = this.failuresInARow === 0 ? this.pollMs : Math.min(5000, this.pollMs * 2 ** Math.min(this.failuresInARow, 6));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Publishes a page, pipelined in order; the position advances over the acknowledged prefix. */
  private async publish(records: readonly OutboxRecord[]): Promise<void> {
    const round = ++this.round;
    const outcomes: Promise<string | null>[] = [];
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const reply = `${this.inbox}.${round}.${i}`;
      // null: stored (or a duplicate JetStream already had); a string: why it was not.
      outcomes.push(
        new Promise<string | null>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting.delete(reply);
            resolve(`no acknowledgement within ${ackTimeoutMs} ms`);
          }, ackTimeoutMs);
          this.waiting.set(reply, (message) => {
            clearTimeout(timer);
            this.waiting.delete(reply);
            resolve(acknowledgementError(message));
          });
        }),
      );
      const h = headers();
      h.set('Nats-Msg-Id', record.id);
      h.set('Tengri-Outbox-Position', formatPosition(record));
      this.nc.publish(`${this.prefix}.${record.key}`, record.payload, { reply, headers: h });
    }
    const results = await Promise.all(outcomes);
    let acknowledged = 0;
    while (acknowledged < results.length && results[acknowledged] === null) acknowledged++;
    this.publishedCount += results.filter((result) => result === null).length;
    if (acknowledged > 0) {
      const last = records[acknowledged - 1]!;
      await this.store.setMeta(positionKey(this.name), formatPosition(last));
      this.positionValue = { sequence: last.sequence, index: last.index };
    }
    if (acknowledged < results.length) throw new Error(`JetStream did not store ${records[acknowledged]!.id}: ${results[acknowledged]}`);
  }
}

/** Null when the answer is a JetStream acknowledgement, else what it says went wrong. */
function acknowledgementError(message: Msg): string | null {
  if (message.headers?.hasError === true) return `NATS ${message.headers.code} ${message.headers.description}`;
  try {
    const answer = message.json<{ stream?: string; seq?: number; error?: { code?: number; description?: string } }>();
    if (answer.error !== undefined) return `JetStream ${answer.error.code ?? ''} ${answer.error.description ?? ''}`.trim();
    return typeof answer.seq === 'number' ? null : 'not a JetStream acknowledgement';
  } catch {
    return 'not a JetStream acknowledgement';
  }
}
