// A single-key coalescing work queue in the manner of controller-runtime:
// any number of add() calls while work is pending or running lead to one
// more run, never two at once. A failed run is retried with backoff; a run
// may ask to be run again after a delay (the reload budget).

import { systemClock, type Clock } from '../clock.js';

export interface WorkResult {
  /** Run again after this many ms even if nothing else asks. */
  retryAfterMs?: number;
  /** The trigger the rerun carries (default "retry"). */
  trigger?: string;
}

/** One run: why it runs, and when the latest of those triggers arrived (ms since the epoch). */
export type Work = (triggers: string[], lastTriggerAt: number) => Promise<WorkResult | undefined>;

export interface WorkQueueOptions {
  /** Wait this long after the first trigger so a burst of events becomes one run. */
  debounceMs: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (err: unknown, attempt: number) => void;
  /** Time, for tests to drive (default: the system's). */
  clock?: Clock;
}

export class WorkQueue {
  private pending: string[] = [];
  /** When the latest trigger of the pending batch arrived (retries of our own aside). */
  private lastAddedAt: number | undefined;
  private running = false;
  /** Cancels the scheduled run, when one is scheduled. */
  private timer: (() => void) | undefined;
  private dueAt = 0;
  private stopped = false;
  private failures = 0;
  private waiters: (() => void)[] = [];

  private readonly clock: Clock;

  constructor(
    private readonly work: Work,
    private readonly opts: WorkQueueOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Marks the work dirty; `trigger` says why (logged and recorded). */
  add(trigger: string, delayMs = this.opts.debounceMs): void {
    if (this.stopped) return;
    this.lastAddedAt = this.clock.now();
    if (!this.pending.includes(trigger)) this.pending.push(trigger);
    if (!this.running) this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    const due = this.clock.now() + delayMs;
    // An earlier trigger must not wait behind a later retry.
    if (this.timer !== undefined) {
      if (due >= this.dueAt) return;
      this.timer();
    }
    this.dueAt = due;
    this.timer = this.clock.after(delayMs, () => {
      this.timer = undefined;
      void this.runOnce();
    });
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || this.running || this.pending.length === 0) {
      this.notifyIdle();
      return;
    }
    this.running = true;
    const triggers = this.pending;
    const lastTriggerAt = this.lastAddedAt ?? this.clock.now();
    this.pending = [];
    this.lastAddedAt = undefined;
    let retryAfter: number | undefined;
    let retryTrigger = 'retry';
    try {
      const result = await this.work(triggers, lastTriggerAt);
      this.failures = 0;
      retryAfter = result?.retryAfterMs;
      retryTrigger = result?.trigger ?? 'retry';
    } catch (err) {
      this.failures++;
      this.opts.onError?.(err, this.failures);
      const min = this.opts.minBackoffMs ?? 500;
      retryAfter = Math.min(min * 2 ** (this.failures - 1), this.opts.maxBackoffMs ?? 30_000);
      if (!this.pending.includes('retry')) this.pending.push('retry');
    } finally {
      this.running = false;
    }
    if (retryAfter !== undefined && !this.stopped) {
      if (!this.pending.includes(retryTrigger)) this.pending.push(retryTrigger);
      this.schedule(this.pending.some((t) => t !== retryTrigger && t !== 'retry') ? 0 : retryAfter);
    } else if (this.pending.length > 0) {
      this.schedule(0);
    } else {
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.running || this.pending.length > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is pending or running. */
  idle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.pending = [];
    this.notifyIdle();
  }
}
