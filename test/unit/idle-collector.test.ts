// The idle collector's decisions, on a fake clock and a fake heap: it collects
// only on an idle tick with garbage worth a pause, measures garbage against
// what the last collection left alive, and settles once after a whole quiet.
// A real process giving back its heap is tested in test/integration/memory.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IDLE_UTILIZATION,
  MIN_GARBAGE_BYTES,
  processHeap,
  SETTLE_TICKS,
  startIdleCollector,
  tick,
  TICK_MS,
  type Heap,
  type IdleCollection,
} from '../../src/idle-collector.js';
import { FakeClock } from '../helpers/clock.js';

const MB = 2 ** 20;
const IDLE = 0.01;

/** A heap whose use and business the test sets; a collection brings use down to `live`. */
function fakeHeap(start: { used: number; live: number }) {
  const h = { ...start, busy: IDLE, collections: 0, compacted: [] as boolean[] };
  const heap: Heap = {
    usedBytes: () => h.used,
    utilization: () => h.busy,
    collect: (compact) => {
      h.collections++;
      h.compacted.push(compact);
      h.used = h.live;
    },
  };
  return { h, heap };
}

describe('idle collector', () => {
  it('collects garbage when idle and grown by a quarter of the live heap and by the minimum', () => {
    const at = (liveBytes: number) => ({ liveBytes, settleIn: undefined });
    assert.equal(tick(at(200 * MB), 249 * MB, IDLE).collect, undefined, 'less than a quarter of 200 MB');
    assert.equal(tick(at(200 * MB), 251 * MB, IDLE).collect, 'garbage');
    assert.equal(tick(at(200 * MB), 251 * MB, IDLE_UTILIZATION).collect, undefined, 'busy');
    assert.equal(tick(at(10 * MB), 10 * MB + MIN_GARBAGE_BYTES, IDLE).collect, undefined, 'small heap, at the minimum');
    assert.deepEqual(tick(at(10 * MB), 10 * MB + MIN_GARBAGE_BYTES + 1, IDLE), {
      collect: 'garbage',
      settleIn: SETTLE_TICKS,
    });
  });

  it('settles once after SETTLE_TICKS whole idle ticks; a busy tick restarts the count', () => {
    let state = { liveBytes: 80 * MB, settleIn: SETTLE_TICKS as number | undefined };
    const kinds: (string | undefined)[] = [];
    for (const busy of [IDLE, IDLE, 0.5, ...Array<number>(SETTLE_TICKS + 3).fill(IDLE)]) {
      const next = tick(state, 81 * MB, busy);
      kinds.push(next.collect);
      state = { ...state, settleIn: next.settleIn };
    }
    assert.equal(kinds.indexOf('settle'), 2 + SETTLE_TICKS, 'counted from the busy tick on');
    assert.equal(kinds.filter((k) => k !== undefined).length, 1, 'once');
  });

  it('waits for an idle tick, measures later garbage against what survived, and settles', async () => {
    const clock = new FakeClock();
    const { h, heap } = fakeHeap({ used: 20 * MB, live: 20 * MB });
    const seen: IdleCollection[] = [];
    const stop = startIdleCollector(heap, clock, (c) => seen.push(c));
    Object.assign(h, { used: 250 * MB, live: 80 * MB, busy: 0.9 });
    await clock.advance(3 * TICK_MS);
    assert.equal(h.collections, 0, 'never while the loop is busy');
    h.busy = IDLE;
    await clock.advance(TICK_MS);
    assert.deepEqual(seen, [{ kind: 'garbage', beforeBytes: 250 * MB, afterBytes: 80 * MB, ms: 0 }]);
    h.used = 100 * MB; // 20 MB over the 80 MB that survived: not worth it
    await clock.advance(SETTLE_TICKS * TICK_MS);
    assert.deepEqual(
      seen.map((c) => c.kind),
      ['garbage', 'settle'],
    );
    assert.deepEqual(h.compacted, [false, true], 'only the settling collection compacts');
    h.used = 113 * MB;
    await clock.advance(TICK_MS);
    assert.equal(h.collections, 3);
    stop();
    h.used = 500 * MB;
    await clock.advance(10 * TICK_MS);
    assert.equal(h.collections, 3, 'stopped');
  });

  it("reads this process's heap and collects it for real", () => {
    const heap = processHeap();
    // Made and dropped inside a function: nothing refers to it once the function returns.
    const made = (() => Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` })).length)();
    const before = heap.usedBytes();
    assert.ok(made > 0 && before > 10 * MB, `${before} bytes in use`);
    heap.collect(true);
    assert.ok(heap.usedBytes() < before - 10 * MB, `${before} → ${heap.usedBytes()} bytes`);
    const share = heap.utilization();
    assert.ok(share > 0 && share <= 1, `utilization ${share}`);
  });
});
