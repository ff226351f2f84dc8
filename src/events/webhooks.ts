/**
 * Webhook delivery: each bank may register one URL; every committed event of the bank is POSTed
 * to it as JSON, in order, at least once, signed with HMAC-SHA256 under a secret the platform
 * generated and showed the bank once. A delivery that fails (network error, timeout, non-2xx) is
 * retried with exponential backoff (1 s doubling to 5 min, with jitter) and later events wait
 * behind it, so a receiver sees each bank's events in commit order.
 *
 * Registrations and the number of the last delivered event are kept in `<data dir>/webhooks.json`
 * (mode 0600: it holds the secrets), so a restart resumes where delivery stopped. Events are
 * de-duplicated by their `id` (`<bank>:<seq>`), which never changes.
 *
 * Signature header: `Tengri-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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

  constructor(
    private readonly platform: Platform,
    private readonly hub: EventHub,
    private readonly file: string | null,
    private readonly log?: FastifyBaseLogger,
  ) {
    this.registrations = new Map();
    if (file !== null) {
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, WebhookRegistration>;
        for (const [bank, registration] of Object.entries(saved)) this.registrations.set(bank, registration);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    hub.subscribe('*', (event) => {
      if (this.registrations.has(event.bank)) this.kick(event.bank);
    });
    for (const bank of this.registrations.keys()) this.kick(bank);
  }

  register(bank: string, url: string): { url: string; secret: string; delivered: number } {
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    // Start after the events already committed: a new endpoint receives what happens from now on
    // (earlier events are in GET /v1/events).
    const registration: WebhookRegistration = { url, secret, delivered: this.hub.committed(bank), createdAt: new Date().toISOString() };
    // Saved before it takes effect: if the file cannot be written, the bank gets an error and the
    // old registration stays as it was.
    const previous = this.registrations.get(bank);
    this.registrations.set(bank, registration);
    try {
      this.save();
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

  remove(bank: string): boolean {
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
    if (removed) this.save();
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

  close(): void {
    this.closed = true;
    if (this.saveTimer !== null) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
      this.save();
    }
    for (const worker of this.workers.values()) if (worker.timer !== null) clearTimeout(worker.timer);
  }

  private saveTimer: NodeJS.Timeout | null = null;

  /** Delivery progress is saved at most twice a second; a crash redelivers at most that much. */
  private saveSoon(): void {
    if (this.saveTimer !== null || this.file === null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      try {
        this.save();
      } catch (error) {
        // Delivery goes on; after a restart some events are delivered again (at least once).
        this.log?.error({ err: error }, 'could not save webhook delivery progress');
      }
    }, 500);
    this.saveTimer.unref();
  }

  private save(): void {
    if (this.file === null) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.registrations), null, 2), { mode: 0o600 });
    renameSync(temporary, this.file);
  }

  private kick(bank: string): void {
    let worker = this.workers.get(bank);
    if (worker === undefined) {
      worker = { running: false, failures: 0, lastError: null, nextAttemptAt: null, timer: null, gap: null };
      this.workers.set(bank, worker);
    }
    if (worker.running || worker.timer !== null || this.closed) return;
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
