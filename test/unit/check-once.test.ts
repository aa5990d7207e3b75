// Each candidate checked once: accepted bytes are not checked again (within
// the TTL), a check still running is shared, refusals are not kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOnce } from '../../src/haproxy/check-once.js';
import type { CheckResult } from '../../src/haproxy/check.js';
import { FakeClock } from '../helpers/clock.js';

function counting(results: Record<string, CheckResult>) {
  const calls: string[] = [];
  const check = async (text: string): Promise<CheckResult> => {
    calls.push(text);
    return results[text] ?? { ok: true, errors: [], output: '' };
  };
  return { calls, check };
}

describe('check once', () => {
  it('checks the same accepted bytes once, and again after the TTL', async () => {
    const clock = new FakeClock();
    const { calls, check } = counting({});
    const once = checkOnce(check, clock, { ttlMs: 1000 });
    assert.equal((await once('a', 'api')).ok, true);
    assert.equal((await once('a', 'candidate')).ok, true);
    assert.deepEqual(calls, ['a']);
    await clock.advance(1000);
    await once('a', 'candidate');
    assert.deepEqual(calls, ['a', 'a']);
  });

  it('shares a check still running', async () => {
    const { calls, check } = counting({});
    const once = checkOnce(check, new FakeClock());
    const [x, y] = await Promise.all([once('b', 'api'), once('b', 'candidate')]);
    assert.equal(x, y);
    assert.deepEqual(calls, ['b']);
  });

  it('does not keep a refusal, and keeps only the most recent results', async () => {
    const refused: CheckResult = { ok: false, errors: [{ message: 'no' }], output: 'no' };
    const { calls, check } = counting({ bad: refused });
    const once = checkOnce(check, new FakeClock(), { size: 2 });
    await once('bad', 'api');
    await once('bad', 'api');
    assert.deepEqual(calls, ['bad', 'bad']);
    for (const t of ['1', '2', '3', '1']) await once(t, 'api');
    assert.deepEqual(calls.slice(2), ['1', '2', '3', '1'], 'the oldest went when a third came');
  });
});
