// Polls HAProxy's `show stat` while someone listens, and hands every listener
// the same difference between two polls: many clients cost one poll.
import type { Logger } from 'pino';
import { every, type Clock } from '../clock.js';
import { diffStats, statsFromCsv, type Stat, type StatsDelta } from '../core/haproxy-output/stats.js';

export type StatsListener = (delta: StatsDelta) => void;

export class StatsPoller {
  private latest: Stat[] = [];
  private signatures = new Map<string, string>();
  private polledAt = 0;
  private stopTimer: (() => void) | undefined;
  private readonly listeners = new Set<StatsListener>();
  private polling: Promise<void> | undefined;

  constructor(
    private readonly showStat: () => Promise<string>,
    readonly intervalMs: number,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** The stats now: polled unless the last poll is younger than the interval. */
  async snapshot(): Promise<Stat[]> {
    if (this.clock.now() - this.polledAt >= this.intervalMs) await this.poll();
    return this.latest;
  }

  /** Listens to deltas; polling runs while at least one listener does. */
  subscribe(listener: StatsListener): () => void {
    this.listeners.add(listener);
    this.stopTimer ??= every(this.clock, this.intervalMs, () => void this.poll());
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.stopTimer?.();
        this.stopTimer = undefined;
      }
    };
  }

  stop(): void {
    this.listeners.clear();
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  /** One poll at a time: a slow HAProxy must not pile up requests. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    let csv: string;
    try {
      csv = await this.showStat();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'show stat failed; keeping the last stats');
      return;
    }
    const next = statsFromCsv(csv);
    const { changed, removed, signatures } = diffStats(this.signatures, next);
    this.latest = next;
    this.signatures = signatures;
    this.polledAt = this.clock.now();
    // An empty delta too: it tells a client that an interval passed with nothing moving (0 requests/s,
    // 0 5xx/s), which it cannot tell from silence.
    for (const l of this.listeners) l({ changed, removed });
  }
}
