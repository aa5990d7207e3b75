// What one reconcile does with its candidate, decided from values alone: the
// plan (applied text against candidate text), whether HAProxy runs, a reload
// owed to drift or a refused install, a config that failed a moment ago, and
// the reload budget. The reconciler carries the decision out; it decides
// nothing itself.
import type { Plan } from './plan.js';
import { decideReload, type ReloadBudgetOptions, type ReloadBudgetState } from './reload-budget.js';

export type ApplyDecision =
  /** HAProxy already serves the candidate. */
  | { kind: 'noop'; plan: Plan }
  /** The same config failed a moment ago: wait, do not hammer HAProxy with it. */
  | { kind: 'hold'; retryAfterMs: number }
  /** A reload is due but the budget says wait: members move through the runtime API meanwhile. */
  | { kind: 'defer'; plan: Plan; waitMs: number }
  /** Servers change through the runtime API, no reload. */
  | { kind: 'runtime'; plan: Extract<Plan, { kind: 'runtime' }> }
  /** Check the candidate with haproxy -c, install it and reload. */
  | { kind: 'reload'; plan: Plan };

export interface ApplyInputs {
  plan: Plan;
  /** Whether HAProxy is running now. */
  running: boolean;
  /** Whether a config was applied before (by this process or one it resumed). */
  hasApplied: boolean;
  /** Why a reload is owed whatever the plan says (drift, a refused install), if it is. */
  forceReload: string | undefined;
  /** The config that failed last, and when it may be tried again. */
  failed: { hash: string; retryAt: number } | undefined;
  /** The candidate's hash. */
  hash: string;
  now: number;
  /** When the latest change behind this run was noticed. */
  lastTriggerAt: number;
  budget: ReloadBudgetState;
  budgetOptions: ReloadBudgetOptions;
}

/** The decision, and the reload budget to keep (it moves when a reload was asked for). */
export function decideApply(i: ApplyInputs): { decision: ApplyDecision; budget: ReloadBudgetState } {
  const keep = (decision: ApplyDecision) => ({ decision, budget: i.budget });
  const plan = effectivePlan(i);
  if (plan.kind === 'noop') return keep({ kind: 'noop', plan });
  if (i.failed?.hash === i.hash && i.now < i.failed.retryAt)
    return keep({ kind: 'hold', retryAfterMs: i.failed.retryAt - i.now });
  if (plan.kind === 'runtime') return keep({ kind: 'runtime', plan });
  // Starting HAProxy, or the first apply, never waits for the budget.
  if (!i.running || !i.hasApplied) return keep({ kind: 'reload', plan });
  const budget = decideReload(i.budget, i.budgetOptions, i.hash, i.now, i.lastTriggerAt);
  const decision: ApplyDecision = budget.reload
    ? { kind: 'reload', plan }
    : { kind: 'defer', plan, waitMs: budget.waitMs };
  return { decision, budget: budget.state };
}

/** The plan, turned into a reload when HAProxy is down or a reload is owed. */
function effectivePlan(i: ApplyInputs): Plan {
  if (!i.running)
    return { kind: 'reload', reasons: ['HAProxy is not running', ...(i.plan.kind === 'noop' ? [] : i.plan.reasons)] };
  if (i.forceReload !== undefined && i.plan.kind !== 'reload') return { kind: 'reload', reasons: [i.forceReload] };
  return i.plan;
}
