// The parts of a running Aqueduct start in one order and stop in the other,
// through this one small interface (controller-runtime's "runnables"). Stop
// is bounded as a whole: a part that hangs is named in the log and left
// behind, and the parts after it still stop.
import type { Logger } from 'pino';
import type { Clock } from './clock.js';

export interface Component {
  readonly name: string;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/** Starts each in order; if one fails, stops those already started (in reverse) and rethrows. */
export async function startAll(components: readonly Component[], stopOpts: StopOptions): Promise<void> {
  const started: Component[] = [];
  for (const c of components) {
    try {
      await c.start?.();
    } catch (err) {
      await stopAll(started, stopOpts);
      throw err;
    }
    started.push(c);
  }
}

export interface StopOptions {
  /** The most the whole stop may take. */
  budgetMs: number;
  clock: Clock;
  log: Logger;
}

/** Stops each in reverse order, each within what is left of the budget; true when all stopped in time. */
export async function stopAll(components: readonly Component[], opts: StopOptions): Promise<boolean> {
  const deadline = opts.clock.now() + opts.budgetMs;
  let allInTime = true;
  for (const c of [...components].reverse()) {
    const left = Math.max(0, deadline - opts.clock.now());
    const inTime = await within(left, opts.clock, stopOne(c, opts.log));
    if (!inTime) {
      allInTime = false;
      opts.log.warn(
        { component: c.name, budgetMs: opts.budgetMs },
        `${c.name} did not stop in time; going on without it`,
      );
    }
  }
  return allInTime;
}

async function stopOne(c: Component, log: Logger): Promise<void> {
  try {
    await c.stop?.();
  } catch (err) {
    log.warn({ component: c.name, err: (err as Error).message }, `${c.name} failed to stop cleanly`);
  }
}

/** Whether `work` settles within ms (it keeps running either way). */
export async function within(ms: number, clock: Clock, work: Promise<void>): Promise<boolean> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<false>((resolve) => {
    cancel = clock.after(ms, () => resolve(false));
  });
  const done = await Promise.race([work.then(() => true as const), timeout]);
  cancel?.();
  return done;
}
