/**
 * Leader and replicas on a PostgreSQL ledger. Every `tengri start --db` process opens the ledger
 * as a replica and serves: reads from its own copy, writes forwarded to the leader (api/forward.ts).
 * This class keeps the copy current and decides who leads:
 *
 * - **Tail.** Every `tailMs` (and at once when a forwarded write waits for its batch) it reads the
 *   journal after its head and replays each batch with recovery's checks (`Sequencer.replicate`).
 * - **Lease.** Unless started with `follow` (an API process that never writes), it tries to take
 *   the writer lease every `leasePollMs`, or as soon as the holder's expiry passes. When it gets
 *   it, it sets the fencing token on the store (no older leader can append from then on), replays
 *   what is left of the journal, and promotes its sequencer: the same process, with the state it
 *   already has, becomes the writer. No restart, no second recovery.
 * - **Renewal.** A leader renews every `leaseRenewMs`; when a renewal finds the lease gone (someone
 *   took over after this process stalled), `onLost` is called and the process must stop writing at
 *   once: its appends are fenced anyway.
 */
import type { Logger } from 'pino';
import type { LeaderLink } from '../api/forward.ts';
import { promoteEngine } from '../engine/engine.ts';
import { RecoveryError } from '../engine/recovery.ts';
import type { Sequencer } from '../engine/sequencer.ts';
import type { LeaseInfo, PostgresStore } from '../store/postgres-store.ts';

export interface LeadershipOptions {
  /** Unique per process incarnation; starts with the advertised URL, then ` pid `. */
  readonly holder: string;
  /** This process's advertised URL. */
  readonly self: string;
  /** Never take the lease: an API process that only reads and forwards. */
  readonly follow: boolean;
  readonly leaseTtlMs: number;
  readonly leaseRenewMs: number;
  readonly leasePollMs: number;
  readonly tailMs: number;
  readonly log: Logger;
  /** Record caps for when this process writes (see promoteEngine). */
  readonly engine?: { readonly transfersMax?: number; readonly accountsMax?: number };
  /** Called once this process has become the writer (seed the ledger, start the relay, ...). */
  readonly onPromoted: () => Promise<void>;
  /** The lease was lost, or the copy cannot be kept: the process must stop. */
  readonly onFatal: (error: unknown) => void;
}

/** The advertised URL in a lease holder's name (`<url> pid <pid> <random>`). */
export function leaderUrl(holder: string): string {
  return holder.split(' pid ')[0]!;
}

const pageBatches = 64;

export class Leadership implements LeaderLink {
  readonly self: string;
  private leaderValue: string | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private token: bigint | null = null;
  private readonly waiters = new Set<{ sequence: number; resolve: (ok: boolean) => void }>();
  private failures = 0;

  constructor(
    private readonly store: PostgresStore,
    private readonly sequencer: Sequencer,
    private readonly options: LeadershipOptions,
  ) {
    this.self = options.self;
  }

  leader(): string | null {
    return this.sequencer.status === 'replica' ? this.leaderValue : this.self;
  }

  get isLeader(): boolean {
    return this.token !== null;
  }

  /**
   * Starts following and competing for the lease. Resolves after the first round: this process
   * leads (and `onPromoted` has run), or it follows a known leader, or it found none to follow.
   */
  start(): Promise<void> {
    const firstRound = new Promise<void>((resolve) => {
      this.firstRound = resolve;
    });
    this.loop ??= this.run();
    return firstRound;
  }

  private firstRound: (() => void) | null = null;

  private roundDone(): void {
    const done = this.firstRound;
    this.firstRound = null;
    done?.();
  }

  caughtUp(sequence: number, timeoutMs: number): Promise<boolean> {
    if ((this.sequencer.journalHead?.sequence ?? 0) >= sequence || this.sequencer.status !== 'replica') return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        sequence,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.add(waiter);
      this.wake?.();
    });
  }

  /** Stops following and competing for the lease at once (a leader keeps renewing until `stop`). */
  halt(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Stops following and renewing, and gives the lease up if this process holds it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    await this.loop;
    this.roundDone();
    for (const waiter of [...this.waiters]) waiter.resolve(false);
    if (this.token !== null) await this.store.releaseLease(this.options.holder, this.token).catch(() => false);
  }

  private async run(): Promise<void> {
    let nextLeaseCheck = 0;
    while (!this.stopped && this.sequencer.status === 'replica') {
      try {
        await this.tail();
        if (Date.now() >= nextLeaseCheck) {
          if (!this.options.follow) {
            const grant = await this.store.acquireLease(this.options.holder, this.options.leaseTtlMs);
            if (grant !== null && this.stopped) {
              // Stopping: do not lead, give the lease straight back.
              await this.store.releaseLease(this.options.holder, grant.token).catch(() => false);
              this.roundDone();
              return;
            }
            if (grant !== null) {
              await this.takeOver(grant.token);
              this.roundDone();
              return;
            }
          }
          const info = await this.store.leaseInfo();
          this.noteLeader(info);
          const remaining = info?.live === true ? Math.max(50, info.remainingMs) : this.options.leasePollMs;
          nextLeaseCheck = Date.now() + Math.min(this.options.leasePollMs, remaining);
          this.roundDone();
        }
        this.failures = 0;
      } catch (error) {
        if (error instanceof RecoveryError || (this.sequencer.status as string) === 'failed') {
          this.options.onFatal(error);
          this.roundDone();
          return;
        }
        this.roundDone();
        this.failures++;
        if (this.failures === 1 || this.failures % 100 === 0) this.options.log.warn({ err: error, failures: this.failures }, 'replica: could not read the journal or the lease; retrying');
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.failures === 0 ? this.options.tailMs : Math.min(2000, this.options.tailMs * 2 ** Math.min(this.failures, 6)));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Replays every batch stored after this copy's head. */
  private async tail(): Promise<void> {
    for (;;) {
      const from = (this.sequencer.journalHead?.sequence ?? 0) + 1;
      const page = await this.store.read(from, pageBatches);
      for (const batch of page) this.sequencer.replicate(batch);
      const head = this.sequencer.journalHead?.sequence ?? 0;
      for (const waiter of [...this.waiters]) if (waiter.sequence <= head) waiter.resolve(true);
      if (page.length < pageBatches) return;
    }
  }

  private noteLeader(info: LeaseInfo | null): void {
    const current = info === null || !info.live ? null : leaderUrl(info.holder);
    if (current !== this.leaderValue) {
      this.leaderValue = current;
      this.options.log.info({ leader: current }, current === null ? 'replica: no live leader' : 'replica: following the leader');
    }
  }

  private async takeOver(token: bigint): Promise<void> {
    try {
      // From here no process with an older token can append: what the journal holds now is final
      // up to this process's own first batch.
      this.store.setFencingToken(token);
      this.token = token;
      // Renew from the start: catching up may take longer than the lease lasts.
      let renewedAt = Date.now();
      this.renewTimer = setInterval(() => {
        this.store.renewLease(this.options.holder, token, this.options.leaseTtlMs).then(
          (kept) => {
            if (kept) renewedAt = Date.now();
            else if (!this.stopped) this.options.onFatal(new Error(`lost the writer lease (token ${token}) to another process`));
          },
          (error: unknown) => {
            // Cut off from the database for longer than the lease lasts: another process may lead
            // by now, so this one must not go on answering as the leader.
            if (Date.now() - renewedAt >= this.options.leaseTtlMs && !this.stopped) {
              this.options.onFatal(new Error(`could not renew the writer lease for ${Date.now() - renewedAt} ms: ${String(error)}`));
            } else {
              this.options.log.warn({ err: error }, 'could not renew the writer lease; retrying');
            }
          },
        );
      }, this.options.leaseRenewMs);
      this.renewTimer.unref();
      await this.tail();
      await promoteEngine(this.sequencer, this.options.engine ?? {});
      for (const waiter of [...this.waiters]) waiter.resolve(true);
      this.options.log.info({ url: this.self, token: String(token), journalSequence: this.sequencer.journalHead?.sequence ?? 0 }, 'leading');
      await this.options.onPromoted();
    } catch (error) {
      this.options.onFatal(error);
    }
  }
}
