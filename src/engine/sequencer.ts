/**
 * The sequencer: the single writer of a ledger. Requests wait in a bounded queue; the sequencer
 * takes as many whole requests as fit in one batch, applies them in the ledger core, appends the
 * batch to the journal in one durable write (group commit), and only then resolves the requests.
 * A request is never split across batches, so a linked chain never spans two batches.
 *
 * When the store fails to write a batch, the in-memory state is ahead of the durable state; the
 * sequencer then fails every waiting request, refuses new ones and reports a fatal error so the
 * process restarts and recovers from the journal. Nothing was acknowledged for that batch.
 */
import { batchCommandsDefault, batchCommandsMax, batchWaitDefaultMs, batchWaitMaxMs, queueCommandsDefault } from '../limits.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { AnyCommand as Command, CommandResult, Transfer } from '../ledger/types.ts';
import type { JournalBatch, JournalHead, OutboxEntry, Store } from '../store/store.ts';
import { genesisHash, makeBatch } from './journal-chain.ts';
import { RecoveryError, replayBatch } from './recovery.ts';
import { okNew } from '../ledger/results.ts';

export class EngineOverloadedError extends Error {
  override readonly name = 'EngineOverloadedError';
  constructor(readonly retryAfterSeconds: number) {
    super('the sequencer queue is full');
  }
}

export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

export interface SequencerOptions {
  /** Most commands applied and committed as one batch (a larger single request forms its own batch). */
  readonly batchCommandsMax?: number;
  /** How long a batch may wait to fill up before it is committed. */
  readonly batchWaitMs?: number;
  /** Most commands waiting across all requests; beyond it `submit` throws EngineOverloadedError. */
  readonly queueCommandsMax?: number;
  /** Wall clock in milliseconds. Injected so tests and simulations control time. */
  readonly clock?: () => number;
  /**
   * Called after each batch is applied and before it is appended: the outbox entries (events)
   * that batch produced, written to the store in the same transaction as the batch.
   */
  readonly outbox?: () => readonly OutboxEntry[];
  /**
   * Start as a replica: `submit` is refused, and the ledger follows the journal another process
   * writes, batch by batch, through `replicate`, until `promote` makes this the writer.
   */
  readonly replica?: boolean;
}

export interface BatchInfo {
  readonly sequence: number | null;
  readonly commands: readonly Command[];
  readonly results: readonly CommandResult[];
  readonly expired: readonly Transfer[];
  readonly appliedCount: number;
  readonly commitMs: number;
  readonly applyMs: number;
  /** The batch was written by another process and replayed here (a replica). */
  readonly replicated?: boolean;
}

export interface SequencerObserver {
  onBatch?(info: BatchInfo): void;
  onFatal?(error: unknown): void;
  /** A replica became the writer (`promote`). */
  onPromote?(): void;
}

interface Request {
  readonly commands: readonly Command[];
  readonly resolve: (results: CommandResult[]) => void;
  readonly reject: (error: unknown) => void;
  readonly arrivedAt: number;
}

const noOutbox: readonly OutboxEntry[] = [];

export class Sequencer {
  readonly batchCommandsMax: number;
  readonly batchWaitMs: number;
  readonly queueCommandsMax: number;
  private readonly clock: () => number;
  private readonly queue: Request[] = [];
  private queueHead = 0;
  private queuedCommands = 0;
  private running = false;
  /** The pending start of the next batch: an immediate when it may start now, else a timeout. */
  private timer: { readonly kind: 'immediate'; readonly handle: NodeJS.Immediate } | { readonly kind: 'timeout'; readonly handle: NodeJS.Timeout } | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private state: 'replica' | 'open' | 'closing' | 'closed' | 'failed';
  private readonly outbox: (() => readonly OutboxEntry[]) | undefined;
  private head: JournalHead | null;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  /** The journal append in flight, if any: reads wait for it (see `settled`). */
  private appending: Promise<void> | null = null;
  private readonly observers: SequencerObserver[] = [];

  constructor(
    readonly ledger: Ledger,
    private readonly store: Store,
    head: JournalHead | null,
    options: SequencerOptions = {},
  ) {
    this.batchCommandsMax = options.batchCommandsMax ?? batchCommandsDefault;
    this.batchWaitMs = options.batchWaitMs ?? batchWaitDefaultMs;
    this.queueCommandsMax = options.queueCommandsMax ?? queueCommandsDefault;
    this.clock = options.clock ?? Date.now;
    this.outbox = options.outbox;
    this.state = options.replica === true ? 'replica' : 'open';
    if (!Number.isInteger(this.batchCommandsMax) || this.batchCommandsMax < 1 || this.batchCommandsMax > batchCommandsMax) {
      throw new RangeError(`batchCommandsMax must be an integer from 1 to ${batchCommandsMax}`);
    }
    if (!Number.isInteger(this.batchWaitMs) || this.batchWaitMs < 0 || this.batchWaitMs > batchWaitMaxMs) {
      throw new RangeError(`batchWaitMs must be an integer from 0 to ${batchWaitMaxMs}`);
    }
    if (!Number.isInteger(this.queueCommandsMax) || this.queueCommandsMax < 1) {
      throw new RangeError('queueCommandsMax must be a positive integer');
    }
    this.head = head;
    this.scheduleExpiry();
  }

  get journalHead(): JournalHead | null {
    return this.head;
  }

  get queueDepth(): number {
    return this.queuedCommands;
  }

  get status(): 'replica' | 'open' | 'closing' | 'closed' | 'failed' {
    return this.state;
  }

  /**
   * A replica applies the next batch of the journal another process wrote, with every check
   * recovery makes (chain, hash, exact replay), and tells observers as for its own batches. A
   * batch that does not follow or does not replay exactly fails the sequencer (its ledger may be
   * half changed) and throws; the process must restart and recover.
   */
  replicate(batch: JournalBatch): void {
    if (this.state !== 'replica') throw new Error(`only a replica replicates; this sequencer is ${this.state}`);
    const expected = (this.head?.sequence ?? 0) + 1;
    const applyStart = performance.now();
    let commands: readonly Command[];
    try {
      if (batch.sequence !== expected) throw new RecoveryError(`expected sequence ${expected}`, batch.sequence);
      commands = replayBatch(this.ledger, batch, this.head?.hash ?? genesisHash);
    } catch (error) {
      this.fail(error, []);
      throw error;
    }
    const applyMs = performance.now() - applyStart;
    this.head = { sequence: batch.sequence, timestamp: batch.timestamp, hash: batch.hash };
    const results: CommandResult[] = commands.map(() => okNew);
    for (const observer of this.observers) {
      observer.onBatch?.({ sequence: batch.sequence, commands, results, expired: [], appliedCount: commands.length, commitMs: 0, applyMs, replicated: true });
    }
  }

  /**
   * Makes a replica the writer, from the state it has replicated. The caller must hold the
   * store's write lease and have replicated every batch stored before it took it.
   */
  promote(): void {
    if (this.state !== 'replica') throw new Error(`only a replica can be promoted; this sequencer is ${this.state}`);
    this.state = 'open';
    this.scheduleExpiry();
    for (const observer of this.observers) observer.onPromote?.();
  }

  /**
   * Resolves once no journal append is in flight. The core changes its in-memory state before the
   * batch is durable, so a read that must not see undurable state (every API read) waits for
   * this. With the synchronous SQLite store it is always already settled; with an asynchronous
   * store (PostgreSQL) it delays a read by at most one commit. After a storage failure the
   * in-memory state cannot be trusted: check `status` before reading.
   */
  settled(): Promise<void> {
    const append = this.appending;
    return append === null ? Promise.resolve() : append.then(
      () => undefined,
      () => undefined,
    );
  }

  observe(observer: SequencerObserver): void {
    this.observers.push(observer);
  }

  /**
   * Queues commands to be applied together in one batch, in order. Resolves with one result per
   * command once the batch is durable. Throws EngineOverloadedError when the queue is full
   * (`unbounded` skips that check: only for the genesis request, which must stay one request).
   */
  submit(commands: readonly Command[], unbounded = false): Promise<CommandResult[]> {
    if (this.state !== 'open') {
      return Promise.reject(new EngineUnavailableError(this.state === 'replica' ? 'this process is a replica: writes go to the leader' : `the sequencer is ${this.state}`));
    }
    if (commands.length === 0) return Promise.resolve([]);
    if (!unbounded && this.queuedCommands + commands.length > this.queueCommandsMax) {
      return Promise.reject(new EngineOverloadedError(1));
    }
    return new Promise<CommandResult[]>((resolve, reject) => {
      this.queue.push({ commands, resolve, reject, arrivedAt: this.clock() });
      this.queuedCommands += commands.length;
      this.schedule();
    });
  }

  /** Ledger time now: the wall clock, never before the last batch (what the next batch will use). */
  now(): number {
    return Math.max(this.clock(), this.ledger.timestamp);
  }

  /** Stops accepting requests, commits what is queued, and resolves when the last batch is durable. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'replica') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'open') this.state = 'closing';
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.cancelTimer();
    if (this.running || this.queuedCommands > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        if (!this.running) void this.runBatch();
      });
    }
    if (this.state === 'closing') this.state = 'closed';
  }

  private cancelTimer(): void {
    const timer = this.timer;
    if (timer === null) return;
    if (timer.kind === 'immediate') clearImmediate(timer.handle);
    else clearTimeout(timer.handle);
    this.timer = null;
  }

  private schedule(): void {
    if (this.running || this.queuedCommands === 0) return;
    if (this.queuedCommands >= this.batchCommandsMax || this.batchWaitMs === 0 || this.state === 'closing') {
      // A full batch starts at once (setImmediate: setTimeout(0) would wait at least 1 ms).
      if (this.timer?.kind === 'immediate') return;
      this.cancelTimer();
      this.timer = {
        kind: 'immediate',
        handle: setImmediate(() => {
          this.timer = null;
          void this.runBatch();
        }),
      };
      return;
    }
    if (this.timer !== null) return;
    const oldest = this.queue[this.queueHead]!;
    const waitMs = Math.max(0, oldest.arrivedAt + this.batchWaitMs - this.clock());
    this.timer = {
      kind: 'timeout',
      handle: setTimeout(() => {
        this.timer = null;
        void this.runBatch();
      }, waitMs),
    };
  }

  private takeRequests(): Request[] {
    const taken: Request[] = [];
    let commands = 0;
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead]!;
      if (taken.length > 0 && commands + next.commands.length > this.batchCommandsMax) break;
      taken.push(next);
      commands += next.commands.length;
      // Release the slot now, so a taken request's commands and callbacks can be collected.
      (this.queue as (Request | undefined)[])[this.queueHead] = undefined;
      this.queueHead++;
    }
    this.queuedCommands -= commands;
    // Compact the array once the consumed prefix dominates, keeping memory bounded.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return taken;
  }

  private async runBatch(): Promise<void> {
    if (this.running || this.state === 'failed' || this.state === 'closed') return;
    this.running = true;
    const requests = this.takeRequests();
    let commands: readonly Command[];
    let requestEnds: number[] | undefined;
    if (requests.length === 1) {
      commands = requests[0]!.commands;
    } else {
      const merged: Command[] = [];
      requestEnds = [];
      for (const request of requests) {
        for (const command of request.commands) merged.push(command);
        requestEnds.push(merged.length);
      }
      commands = merged;
    }
    try {
      // Ledger time follows the wall clock and never goes back; batches within one millisecond
      // share it. (Forcing a strictly later millisecond per batch made ledger time run ahead of
      // real time above 1,000 batches per second, and so released reservations early.)
      const timestamp = Math.max(this.clock(), this.ledger.timestamp);
      const applyStart = performance.now();
      const outcome = this.ledger.apply(commands, timestamp, requestEnds);
      const applyMs = performance.now() - applyStart;
      let sequence: number | null = null;
      const commitStart = performance.now();
      if (outcome.appliedCount > 0 || outcome.expired.length > 0) {
        sequence = (this.head?.sequence ?? 0) + 1;
        const batch = makeBatch(this.head?.hash ?? genesisHash, sequence, timestamp, outcome.appliedCount, outcome.journal);
        const append = this.store.append(batch, this.outbox?.() ?? noOutbox);
        this.appending = append;
        try {
          await append;
        } finally {
          this.appending = null;
        }
        this.head = { sequence, timestamp, hash: batch.hash };
      }
      const commitMs = performance.now() - commitStart;
      let offset = 0;
      for (const request of requests) {
        const count = request.commands.length;
        request.resolve(outcome.results.slice(offset, offset + count) as CommandResult[]);
        offset += count;
      }
      for (const observer of this.observers) {
        observer.onBatch?.({ sequence, commands, results: outcome.results, expired: outcome.expired, appliedCount: outcome.appliedCount, commitMs, applyMs });
      }
    } catch (error) {
      this.fail(error, requests);
      return;
    } finally {
      this.running = false;
    }
    this.scheduleExpiry();
    if (this.queuedCommands > 0) {
      this.schedule();
    } else if (this.drained !== null) {
      const drained = this.drained;
      this.drained = null;
      drained();
    }
  }

  /** The in-memory state may now be ahead of the journal: refuse everything until a restart. */
  private fail(error: unknown, inFlight: Request[]): void {
    this.state = 'failed';
    const failure = new EngineUnavailableError(`the sequencer stopped after a storage failure: ${String(error)}`);
    for (const request of inFlight) request.reject(failure);
    while (this.queueHead < this.queue.length) this.queue[this.queueHead++]!.reject(failure);
    this.queuedCommands = 0;
    this.cancelTimer();
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    for (const observer of this.observers) observer.onFatal?.(error);
    this.drained?.();
  }

  /** Runs an empty batch when the earliest pending timeout passes, so reservations are released on time. */
  private scheduleExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.state !== 'open') return;
    const at = this.ledger.nextExpiryAt();
    if (at === undefined) return;
    const delayMs = Math.min(Math.max(0, at - this.clock() + 1), 60_000);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      const due = this.ledger.nextExpiryAt();
      if (due !== undefined && due <= this.clock() && !this.running && this.queuedCommands === 0) {
        void this.runBatch();
      } else {
        this.scheduleExpiry();
      }
    }, delayMs);
    this.expiryTimer.unref();
  }
}
