/**
 * Webhook delivery: each bank may register one URL; every committed event of the bank is POSTed
 * to it as JSON, in order, at least once, signed with HMAC-SHA256 under a secret the platform
 * generated and showed the bank once. A delivery that fails (network error, timeout, non-2xx) is
 * retried with exponential backoff (1 s doubling to 5 min, with jitter) and later events wait
 * behind it, so a receiver sees each bank's events in commit order.
 *
 * Registrations and the number of the last delivered event are kept in `<data dir>/webhooks.json`
 * (mode 0600: it holds the secrets) on SQLite, and in the store's metadata (key `webhooks`) on
 * PostgreSQL, where a standby that takes over must find them; a restart or a fail-over resumes
 * where delivery stopped. Events are de-duplicated by their `id` (`<bank>:<seq>`), which never
 * changes. Only the writer delivers: a replica's dispatcher stays inactive until its sequencer is
 * promoted (registrations made through a replica are forwarded to the leader).
 *
 * Signature header: `Tengri-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { EngineUnavailableError, type Sequencer } from '../engine/sequencer.ts';
import type { Store } from '../store/store.ts';
import type { FastifyBaseLogger } from 'fastify';
import { eventJson } from '../api/platform-views.ts';
import type { Platform } from '../platform/platform.ts';
import type { EventHub } from './hub.ts';

export interface WebhookRegistration {
  readonly url: string;
  readonly secret: string;
  /** Highest event number delivered. */
  delivered: number;
  readonly createdAt: string;
}

export interface WebhookStatus {
  readonly url: string;
  readonly delivered: number;
  readonly pending: number;
  readonly failures: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
}

/** Where registrations and delivery progress are kept (JSON text holding the secrets). */
export interface WebhookPersistence {
  load(): Promise<string | null>;
  save(text: string): Promise<void>;
}

/** A file written 0600 through a rename, so a crash leaves the old or the new contents. */
export function fileWebhookPersistence(file: string): WebhookPersistence {
  return {
    async load() {
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async save(text) {
      const temporary = `${file}.tmp`;
      writeFileSync(temporary, text, { mode: 0o600 });
      renameSync(temporary, file);
    },
  };
}

export const webhooksMetaKey = 'webhooks';

/** The store's metadata: shared by every process on a PostgreSQL ledger, so it survives a fail-over. */
export function storeWebhookPersistence(store: Store): WebhookPersistence {
  return {
    load: () => store.getMeta(webhooksMetaKey),
    save: (text) => store.setMeta(webhooksMetaKey, text),
  };
}

const backoffStartMs = 1000;
const backoffMaxMs = 5 * 60_000;
const timeoutMs = 10_000;

export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export function isWebhookUrl(text: string): boolean {
  if (!text.isWellFormed()) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && text.length <= 2048;
  } catch {
    return false;
  }
}

interface Worker {
  running: boolean;
  failures: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  timer: NodeJS.Timeout | null;
  /** Events that fell out of the kept window before they could be delivered. */
  gap: string | null;
}

export class WebhookDispatcher {
  private readonly registrations: Map<string, WebhookRegistration>;
  private readonly workers = new Map<string, Worker>();
  private closed = false;

  private active = false;
  private activating: Promise<void> | null = null;

  constructor(
    private readonly platform: Platform,
    private readonly hub: EventHub,
    private readonly persistence: WebhookPersistence | null,
    private readonly log?: FastifyBaseLogger,
  ) {
    this.registrations = new Map();
    hub.subscribe('*', (event) => {
      if (this.registrations.has(event.bank)) this.kick(event.bank);
    });
  }

  /**
   * Loads the registrations and starts delivering: at once when `sequencer` writes, else when it
   * is promoted (a replica never delivers). Resolves once active or, for a replica, at once.
   */
  async attach(sequencer: Sequencer): Promise<void> {
    if (sequencer.status === 'replica') {
      sequencer.observe({
        onPromote: () => {
          // A database blip must not leave the new leader without webhooks: retry until loaded.
          void (async () => {
            for (let attempt = 1; !this.active && !this.closed; attempt++) {
              try {
                await this.activate();
              } catch (error) {
                if (attempt === 1 || attempt % 20 === 0) this.log?.error({ err: error, attempt }, 'could not load the webhook registrations; retrying');
                await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
              }
            }
          })();
        },
      });
      return;
    }
    await this.activate();
  }

  /** Loads the registrations and starts delivering. */
  activate(): Promise<void> {
    this.activating ??= (async () => {
      try {
        await this.load();
      } catch (error) {
        this.activating = null;
        throw error;
      }
    })();
    return this.activating;
  }

  private async load(): Promise<void> {
    const saved = this.persistence === null ? null : await this.persistence.load();
    if (saved !== null) {
      for (const [bank, registration] of Object.entries(JSON.parse(saved) as Record<string, WebhookRegistration>)) this.registrations.set(bank, registration);
    }
    this.active = true;
    for (const bank of this.registrations.keys()) this.kick(bank);
  }

  get isActive(): boolean {
    return this.active;
  }

  async register(bank: string, url: string): Promise<{ url: string; secret: string; delivered: number }> {
    if (!this.active) throw new EngineUnavailableError('webhook registrations are not loaded yet');
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    // Start after the events already committed: a new endpoint receives what happens from now on
    // (earlier events are in GET /v1/events).
    const registration: WebhookRegistration = { url, secret, delivered: this.hub.committed(bank), createdAt: new Date().toISOString() };
    // Saved before it takes effect: if the file cannot be written, the bank gets an error and the
    // old registration stays as it was.
    const previous = this.registrations.get(bank);
    this.registrations.set(bank, registration);
    try {
      await this.save();
    } catch (error) {
      if (previous === undefined) this.registrations.delete(bank);
      else this.registrations.set(bank, previous);
      throw error;
    }
    const worker = this.workers.get(bank);
    if (worker !== undefined) {
      // The new endpoint starts afresh: no failures, no backoff left over from the old one.
      worker.failures = 0;
      worker.lastError = null;
      worker.nextAttemptAt = null;
      if (worker.timer !== null) {
        clearTimeout(worker.timer);
        worker.timer = null;
      }
    }
    this.kick(bank);
    return { url, secret, delivered: registration.delivered };
  }

  async remove(bank: string): Promise<boolean> {
    if (!this.active) throw new EngineUnavailableError('webhook registrations are not loaded yet');
    const removed = this.registrations.delete(bank);
    const worker = this.workers.get(bank);
    if (worker !== undefined) {
      worker.failures = 0;
      worker.lastError = null;
      worker.nextAttemptAt = null;
      if (worker.timer !== null) {
        clearTimeout(worker.timer);
        worker.timer = null;
      }
    }
    if (removed) await this.save();
    return removed;
  }

  status(bank: string): WebhookStatus | null {
    const registration = this.registrations.get(bank);
    if (registration === undefined) return null;
    const worker = this.workers.get(bank);
    return {
      url: registration.url,
      delivered: registration.delivered,
      pending: Math.max(0, this.hub.committed(bank) - registration.delivered),
      failures: worker?.failures ?? 0,
      lastError: worker?.lastError ?? worker?.gap ?? null,
      nextAttemptAt: worker?.nextAttemptAt === null || worker?.nextAttemptAt === undefined ? null : new Date(worker.nextAttemptAt).toISOString(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const worker of this.workers.values()) if (worker.timer !== null) clearTimeout(worker.timer);
    if (this.saveTimer !== null) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
      await this.save().catch((error: unknown) => this.log?.error({ err: error }, 'could not save webhook delivery progress'));
    }
  }

  private saveTimer: NodeJS.Timeout | null = null;

  /** Delivery progress is saved at most twice a second; a crash redelivers at most that much. */
  private saveSoon(): void {
    if (this.saveTimer !== null || this.persistence === null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      // Delivery goes on; after a restart some events are delivered again (at least once).
      this.save().catch((error: unknown) => this.log?.error({ err: error }, 'could not save webhook delivery progress'));
    }, 500);
    this.saveTimer.unref();
  }

  private saving: Promise<void> = Promise.resolve();

  /** Saves the registrations as they are now; saves run one after another, never interleaved. */
  private save(): Promise<void> {
    const persistence = this.persistence;
    if (persistence === null) return Promise.resolve();
    const text = JSON.stringify(Object.fromEntries(this.registrations), null, 2);
    const saved = this.saving.then(() => persistence.save(text));
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  private kick(bank: string): void {
    let worker = this.workers.get(bank);
    if (worker === undefined) {
      worker = { running: false, failures: 0, lastError: null, nextAttemptAt: null, timer: null, gap: null };
      this.workers.set(bank, worker);
    }
    if (worker.running || worker.timer !== null || this.closed || !this.active) return;
    worker.running = true;
    void this.drain(bank, worker).finally(() => {
      worker.running = false;
    });
  }

  private async drain(bank: string, worker: Worker): Promise<void> {
    for (;;) {
      const registration = this.registrations.get(bank);
      if (registration === undefined || this.closed) return;
      const { events, firstKept } = this.platform.bankEvents(bank, registration.delivered, 1, this.hub.committed(bank));
      const event = events[0];
      if (event === undefined) return;
      if (registration.delivered + 1 < firstKept) {
        // The receiver was away longer than the kept events reach: say so, then go on from the
        // oldest kept event (GET /v1/events shows firstAvailable too).
        const missed = firstKept - registration.delivered - 1;
        worker.gap = `events ${registration.delivered + 1} to ${firstKept - 1} were no longer kept and were not delivered`;
        this.log?.error({ bank, missed }, 'webhook receiver missed events that are no longer kept');
        registration.delivered = firstKept - 1;
      }
      const body = JSON.stringify(eventJson(event));
      const t = Math.floor(Date.now() / 1000);
      let error: string | null = null;
      try {
        const response = await fetch(registration.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'tengri-event-id': `${event.bank}:${event.seq}`,
            'tengri-signature': signWebhook(registration.secret, t, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          // A redirect would re-send the signed event to another host.
          redirect: 'manual',
        });
        // The answer's body is not needed, and a receiver must not be able to stream one without end.
        await response.body?.cancel().catch(() => undefined);
        if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      if (this.registrations.get(bank) !== registration) continue; // re-registered meanwhile
      if (error === null) {
        registration.delivered = event.seq;
        worker.failures = 0;
        worker.lastError = null;
        worker.nextAttemptAt = null;
        this.saveSoon();
        continue;
      }
      worker.failures++;
      worker.lastError = error;
      const delay = Math.min(backoffMaxMs, backoffStartMs * 2 ** Math.min(worker.failures - 1, 20)) * (0.75 + Math.random() * 0.5);
      worker.nextAttemptAt = Date.now() + delay;
      this.log?.warn({ bank, event: `${event.bank}:${event.seq}`, failures: worker.failures, error }, 'webhook delivery failed; retrying');
      worker.timer = setTimeout(() => {
        worker.timer = null;
        this.kick(bank);
      }, delay);
      worker.timer.unref();
      return;
    }
  }
}
