// The reload budget with the time passed in: paced changes reload at once,
// storms are coalesced, the token bucket caps what remains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideReload,
  initialBudget,
  reloaded,
  type ReloadBudgetOptions,
} from '../../src/core/planning/reload-budget.js';

const opts: ReloadBudgetOptions = { burst: 10, refillMs: 250, quietMs: 50, maxWaitMs: 1000 };

/** Drives the budget through changes at the given times (ms); returns the times at which it reloaded, and what is served last. */
function run(changeTimes: number[], o = opts, until = 10_000): { reloads: number[]; served: string } {
  let state = initialBudget(o, 0);
  const reloads: number[] = [];
  let pending: { candidate: string; retryAt: number } | undefined;
  let served = '';
  const look = (candidate: string, now: number) => {
    const d = decideReload(state, o, candidate, now);
    state = d.state;
    if (d.reload) {
      state = reloaded(state, o, now);
      reloads.push(now);
      served = candidate;
      pending = undefined;
    } else pending = { candidate, retryAt: now + d.waitMs };
  };
  const changes = [...changeTimes];
  for (let now = 0; now <= until; now++) {
    if (changes[0] === now) {
      changes.shift();
      look(`c${now}`, now);
    } else if (pending !== undefined && now >= pending.retryAt && pending.candidate !== served)
      look(pending.candidate, now);
  }
  return { reloads, served };
}
const simulate = (changeTimes: number[], o = opts, until = 10_000): number[] => run(changeTimes, o, until).reloads;

describe('reload budget', () => {
  it('reloads at once for changes made one at a time, 150 ms apart, 20 in a row', () => {
    const times = Array.from({ length: 20 }, (_, i) => i * 150);
    assert.deepEqual(simulate(times), times);
  });

  it('turns a storm of 200 changes in 2 s into a handful of reloads, the last change served', () => {
    const times = Array.from({ length: 200 }, (_, i) => i * 10);
    const { reloads, served } = run(times);
    assert.ok(reloads.length <= 5, `${reloads.length} reloads: ${reloads.join(', ')}`);
    assert.equal(reloads[0], 0, 'the first change of a storm is not held');
    assert.equal(served, 'c1990', 'the storm ends with the last change served');
  });

  it('caps steady changes just slower than the storm window with the token bucket', () => {
    const times = Array.from({ length: 60 }, (_, i) => i * 60); // 60 changes over 3.6 s, never coalesced
    const reloads = simulate(times);
    assert.ok(reloads.length <= 10 + 3600 / 250 + 1, `${reloads.length} reloads`);
    assert.ok(reloads.length < times.length, 'some changes waited and were coalesced');
    assert.deepEqual(reloads.slice(0, 10), times.slice(0, 10), 'the burst goes at once');
  });

  it('refills with time: after a pause the full burst is there again', () => {
    const first = Array.from({ length: 12 }, (_, i) => i * 60);
    const later = Array.from({ length: 10 }, (_, i) => 20_000 + i * 60);
    const reloads = simulate([...first, ...later], opts, 30_000);
    assert.deepEqual(
      reloads.filter((t) => t >= 20_000),
      later,
    );
  });

  it('with --minReloadInterval 0 never waits for tokens', () => {
    const times = Array.from({ length: 30 }, (_, i) => i * 60);
    assert.deepEqual(simulate(times, { ...opts, refillMs: 0 }), times);
  });
});
