// The work queue's timing decisions on a fake clock: debounce, coalescing,
// backoff and retries, each in milliseconds of real time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue, type Work, type WorkQueueOptions } from '../../src/reconcile/work-queue.js';
import { FakeClock } from '../helpers/clock.js';

function queue(
  work: (t: string[], clock: FakeClock, lastTriggerAt: number) => ReturnType<Work>,
  opts: Partial<WorkQueueOptions> = {},
) {
  const clock = new FakeClock();
  const q = new WorkQueue((t, at) => work(t, clock, at), { debounceMs: 0, ...opts, clock });
  return { q, clock };
}

describe('work queue', () => {
  it('coalesces a burst into one run and never runs twice at once', async () => {
    const runs: string[][] = [];
    let active = 0;
    let maxActive = 0;
    const { q, clock } = queue(
      async (t, c) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(t);
        await c.sleep(30);
        active--;
        return undefined;
      },
      { debounceMs: 10 },
    );
    for (let i = 0; i < 20; i++) q.add('watch');
    q.add('resync');
    await clock.advance(50);
    assert.deepEqual(runs, [['watch', 'resync']]);
    q.add('a');
    await clock.advance(15); // 'a' runs (10 ms debounce) and is still running
    q.add('b'); // arrives during the run: exactly one more run
    q.add('c');
    await clock.advance(100);
    assert.deepEqual(runs.slice(1), [['a'], ['b', 'c']]);
    assert.equal(maxActive, 1);
    q.stop();
  });

  it('retries a failed run with backoff, doubling', async () => {
    const calls: number[] = [];
    const errors: number[] = [];
    const { q, clock } = queue(
      async (_t, c) => {
        calls.push(c.now());
        if (calls.length < 3) throw new Error('boom');
        return undefined;
      },
      { minBackoffMs: 10, onError: (_e, attempt) => errors.push(attempt) },
    );
    q.add('x');
    await clock.advance(100);
    assert.deepEqual(
      calls.map((t) => t - (calls[0] ?? 0)),
      [0, 10, 30],
    );
    assert.deepEqual(errors, [1, 2]);
    q.stop();
  });

  it('lets an earlier trigger overtake a later retry', async () => {
    const runs: string[][] = [];
    const { q, clock } = queue(async (t) => {
      runs.push(t);
      return runs.length === 1 ? { retryAfterMs: 10_000 } : undefined;
    });
    q.add('first');
    await clock.advance(20);
    q.add('watch');
    await clock.advance(30);
    assert.deepEqual(runs, [['first'], ['retry', 'watch']]);
    q.stop();
  });

  it('runs a trigger that arrives during a run right after it, not behind the retry the run asks for', async () => {
    const runs: string[][] = [];
    const { q, clock } = queue(async (t, c) => {
      runs.push(t);
      if (runs.length === 1) {
        q.add('fix'); // a new change saved while a failed reload is being handled
        await c.sleep(20);
        return { retryAfterMs: 30_000 };
      }
      return undefined;
    });
    q.add('watch');
    await clock.advance(25);
    assert.deepEqual(runs[1]?.sort(), ['fix', 'retry'], 'the fix ran at once (the retry trigger rides along)');
    q.stop();
  });

  it('runs a trigger that arrives while a retry waits, at once', async () => {
    const runs: string[][] = [];
    const { q, clock } = queue(async (t) => {
      runs.push(t);
      return runs.length === 1 ? { retryAfterMs: 30_000 } : undefined;
    });
    q.add('first');
    await clock.advance(1);
    q.add('edit', 0);
    await clock.advance(1);
    assert.deepEqual(runs[1]?.sort(), ['edit', 'retry']);
    q.stop();
  });

  it('tells a run when its latest trigger arrived (the reload budget measures quiet from it)', async () => {
    const seen: { at: number; last: number }[] = [];
    const { q, clock } = queue(
      async (_t, c, last) => {
        seen.push({ at: c.now(), last });
        return undefined;
      },
      { debounceMs: 20 },
    );
    const start = clock.now();
    for (let i = 0; i < 3; i++) {
      q.add('watch');
      await clock.advance(5);
    }
    await clock.advance(50);
    assert.deepEqual(seen, [{ at: start + 20, last: start + 10 }]);
    q.stop();
  });
});
