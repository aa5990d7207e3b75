// The pure decision at the heart of a reconcile, table-driven: which plan
// kind every combination of plan, HAProxy's state, past failures and the
// reload budget leads to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideApply, type ApplyInputs } from '../../src/core/planning/apply-decision.js';
import { DEFAULT_RELOAD_BUDGET, initialBudget } from '../../src/core/planning/reload-budget.js';

const budgetOptions = { ...DEFAULT_RELOAD_BUDGET, refillMs: 250 };
const now = 1_000_000;
const reload = { kind: 'reload' as const, reasons: ['frontend web changed'] };
const runtime = { kind: 'runtime' as const, ops: [], reasons: ['servers: +1'] };
const noop = { kind: 'noop' as const, reasons: ['config unchanged'] };

const base: ApplyInputs = {
  plan: reload,
  running: true,
  hasApplied: true,
  forceReload: undefined,
  failed: undefined,
  hash: 'h1',
  now,
  lastTriggerAt: now,
  budget: initialBudget(budgetOptions, now - 10_000),
  budgetOptions,
};

const cases: [string, Partial<ApplyInputs>, string, unknown?][] = [
  ['an unchanged config is a noop', { plan: noop }, 'noop'],
  ['server changes go through the runtime API', { plan: runtime }, 'runtime'],
  ['a structural change reloads when the budget allows', {}, 'reload'],
  ['HAProxy down: even a noop reloads', { plan: noop, running: false }, 'reload', ['HAProxy is not running']],
  ['HAProxy down: a runtime change reloads', { plan: runtime, running: false }, 'reload'],
  ['a reload owed to drift overrides a noop', { plan: noop, forceReload: 'drift' }, 'reload', ['drift']],
  ['a reload owed to drift overrides a runtime plan', { plan: runtime, forceReload: 'drift' }, 'reload', ['drift']],
  ['the same config failed a moment ago: hold', { failed: { hash: 'h1', retryAt: now + 5000 } }, 'hold'],
  ['another config failed: go ahead', { failed: { hash: 'h0', retryAt: now + 5000 } }, 'reload'],
  ['the hold is over once retryAt passed', { failed: { hash: 'h1', retryAt: now } }, 'reload'],
  ['an empty bucket defers', { budget: { tokens: 0, at: now } }, 'defer'],
  ['the first apply never waits for the budget', { budget: { tokens: 0, at: now }, hasApplied: false }, 'reload'],
  ['starting HAProxy never waits for the budget', { budget: { tokens: 0, at: now }, running: false }, 'reload'],
];

describe('decideApply', () => {
  for (const [name, given, kind, reasons] of cases)
    it(name, () => {
      const { decision } = decideApply({ ...base, ...given });
      assert.equal(decision.kind, kind);
      if (reasons !== undefined && 'plan' in decision) assert.deepEqual(decision.plan.reasons, reasons);
    });

  it('holds for exactly what is left of the wait', () => {
    const { decision } = decideApply({ ...base, failed: { hash: 'h1', retryAt: now + 1234 } });
    assert.deepEqual(decision, { kind: 'hold', retryAfterMs: 1234 });
  });

  it('keeps the budget it was given unless a reload was weighed, and says how long a deferral waits', () => {
    const empty = { tokens: 0, at: now };
    assert.equal(decideApply({ ...base, plan: runtime, budget: empty }).budget, empty);
    const { decision, budget } = decideApply({ ...base, budget: empty });
    assert.deepEqual(decision.kind === 'defer' && decision.waitMs, 250);
    assert.equal(budget.candidate, 'h1', 'the candidate is remembered for storm detection');
  });
});
