// Gives memory back once a burst of work is over. V8 grows its heap to make
// room for the garbage a big run leaves (parsing thousands of manifests, a
// config of 100k servers, the applied record): at 100k servers the heap
// reaches ~250 MB around a live heap of ~80 MB, and V8's own memory reducer
// returns the rest only after ~30 s of quiet, if at all. So when the event
// loop has been idle for a whole tick and the heap holds far more than the
// last collection left alive, Aqueduct runs one full collection itself, and
// one more once the quiet has lasted (see SETTLE_TICKS). It never runs while
// the loop is busy: a full collection of ~80 MB stops the process for
// 70-100 ms, which only idle time can spare.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { every, type Clock } from './clock.js';

/** A tick idler than this (the share of the tick the event loop worked) counts as idle. */
export const IDLE_UTILIZATION = 0.05;
/** How often the heap is looked at. */
export const TICK_MS = 1000;
/** Below this much garbage a collection is not worth its pause. */
export const MIN_GARBAGE_BYTES = 32 * 2 ** 20;
/**
 * Idle ticks after a collection before the settling one, which compacts.
 * V8 gives back its young generation's room (~32 MB once a big run grew it)
 * only in a collection that follows low allocation over its 5 s measuring
 * window. And the garbage collection alone leaves the old generation's
 * pages fragmented (~140 MB of pages for ~70 MB alive at 100k servers); only
 * a compaction gives those back. The compaction copies what lives to new
 * pages before it frees the old ones, so it waits for the garbage to be gone:
 * compacting at once raised the peak RSS by ~60 MB at 100k servers.
 */
export const SETTLE_TICKS = 6;

export interface CollectorState {
  /** What the last collection left alive (or the heap at the start). */
  liveBytes: number;
  /** Idle ticks left before the settling collection; undefined when none is owed. */
  settleIn: number | undefined;
}

export type Collection = 'garbage' | 'settle';

/**
 * One tick's decision. Idle, with the heap grown since the last collection
 * by a quarter of what was alive then and by MIN_GARBAGE_BYTES: collect the
 * garbage. After that, once SETTLE_TICKS whole idle ticks have passed, collect
 * once more so V8 also shrinks its young generation. A busy tick restarts
 * that count: the quiet must be whole.
 */
export function tick(
  state: CollectorState,
  usedBytes: number,
  utilization: number,
): { collect?: Collection; settleIn: number | undefined } {
  if (utilization >= IDLE_UTILIZATION) return { settleIn: state.settleIn === undefined ? undefined : SETTLE_TICKS };
  if (usedBytes - state.liveBytes > Math.max(MIN_GARBAGE_BYTES, state.liveBytes / 4))
    return { collect: 'garbage', settleIn: SETTLE_TICKS };
  if (state.settleIn === undefined) return { settleIn: undefined };
  return state.settleIn <= 1 ? { collect: 'settle', settleIn: undefined } : { settleIn: state.settleIn - 1 };
}

/** What the collector reads and does: the process's heap, its event loop, a full collection. */
export interface Heap {
  usedBytes(): number;
  /** The share of the time since the last call that the event loop worked (0..1). */
  utilization(): number;
  /**
   * A full collection. One that compacts moves what lives into as few pages
   * as it can, so the pages it empties go back to the system.
   */
  collect(compact: boolean): void;
}

export interface IdleCollection {
  kind: Collection;
  beforeBytes: number;
  afterBytes: number;
  ms: number;
}

/** Starts the ticks; the returned function stops them. */
export function startIdleCollector(heap: Heap, clock: Clock, onCollected: (c: IdleCollection) => void): () => void {
  const state: CollectorState = { liveBytes: heap.usedBytes(), settleIn: undefined };
  heap.utilization();
  return every(clock, TICK_MS, () => {
    const used = heap.usedBytes();
    const next = tick(state, used, heap.utilization());
    state.settleIn = next.settleIn;
    if (next.collect === undefined) return;
    const t0 = clock.now();
    heap.collect(next.collect === 'settle');
    heap.utilization(); // the collection's own pause does not make the next tick busy
    state.liveBytes = heap.usedBytes();
    onCollected({ kind: next.collect, beforeBytes: used, afterBytes: state.liveBytes, ms: clock.now() - t0 });
  });
}

/**
 * This process's heap. A full collection needs V8's `gc`, which Node exposes
 * only behind `--expose-gc`: setting that flag now makes `gc` exist in
 * contexts made after it, so a new context hands it over (it changes nothing
 * else). V8 compacts in a full collection only the pages it judges worth it;
 * `--compact-on-every-full-gc`, set for the one settling collection, makes it
 * compact them all.
 */
export function processHeap(): Heap {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let gc: (() => void) | undefined;
  return {
    usedBytes: () => getHeapStatistics().used_heap_size,
    utilization: () => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
    collect: (compact) => {
      gc ??= exposedGc();
      if (!compact) return gc();
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        gc();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc'); // V8's own collections keep their own judgement
      }
    },
  };
}

function exposedGc(): () => void {
  const own = (globalThis as { gc?: () => void }).gc;
  if (own !== undefined) return own;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
