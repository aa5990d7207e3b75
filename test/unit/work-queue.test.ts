import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/reconcile/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work queue', () => {
  it('coalesces a burst into one run and never runs twice at once', async () => {
    const runs: string[][] = [];
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue(
      async (t) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(t);
        await sleep(30);
        active--;
        return undefined;
      },
      { debounceMs: 10 },
    );
    for (let i = 0; i < 20; i++) q.add('watch');
    q.add('resync');
    await sleep(5);
    await q.idle();
    assert.deepEqual(runs, [['watch', 'resync']]);
    q.add('a');
    await sleep(15);
    q.add('b'); // arrives during the run: exactly one more run
    q.add('c');
    await sleep(5);
    await q.idle();
    assert.deepEqual(runs.slice(1), [['a'], ['b', 'c']]);
    assert.equal(maxActive, 1);
    q.stop();
  });

  it('retries a failed run with backoff', async () => {
    let calls = 0;
    const errors: number[] = [];
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls < 3) throw new Error('boom');
        return undefined;
      },
      { debounceMs: 0, minBackoffMs: 10, onError: (_e, attempt) => errors.push(attempt) },
    );
    q.add('x');
    await sleep(100);
    assert.equal(calls, 3);
    assert.deepEqual(errors, [1, 2]);
    q.stop();
  });

  it('lets an earlier trigger overtake a later retry', async () => {
    const runs: string[][] = [];
    const q = new WorkQueue(
      async (t) => {
        runs.push(t);
        return runs.length === 1 ? { retryAfterMs: 10_000 } : undefined;
      },
      { debounceMs: 0 },
    );
    q.add('first');
    await sleep(20);
    q.add('watch');
    await sleep(30);
    assert.deepEqual(runs, [['first'], ['retry', 'watch']]);
    q.stop();
  });

  it('runs a trigger that arrives during a run right after it, not behind the retry the run asks for', async () => {
    const runs: string[][] = [];
    const q = new WorkQueue(
      async (t) => {
        runs.push(t);
        if (runs.length === 1) {
          q.add('fix'); // a new change saved while a failed reload is being handled
          await sleep(20);
          return { retryAfterMs: 30_000 };
        }
        return undefined;
      },
      { debounceMs: 0 },
    );
    const started = Date.now();
    q.add('watch');
    while (runs.length < 2 && Date.now() - started < 2000) await sleep(5);
    assert.deepEqual(runs[1]?.sort(), ['fix', 'retry'], 'the fix ran at once (the retry trigger rides along)');
    assert.ok(Date.now() - started < 1000);
    q.stop();
  });

  it('runs a trigger that arrives while a retry waits, at once', async () => {
    const runs: string[][] = [];
    const q = new WorkQueue(
      async (t) => {
        runs.push(t);
        return runs.length === 1 ? { retryAfterMs: 30_000 } : undefined;
      },
      { debounceMs: 0 },
    );
    q.add('first');
    while (runs.length < 1) await sleep(5);
    q.add('edit', 0);
    const started = Date.now();
    while (runs.length < 2 && Date.now() - started < 2000) await sleep(5);
    assert.deepEqual(runs[1]?.sort(), ['edit', 'retry']);
    q.stop();
  });
});
