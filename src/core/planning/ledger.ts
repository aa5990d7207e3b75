// The shape of the apply ledger's entries: the reconciler writes them, the API
// serves them, the dashboard (ui/) shows them.
// No imports: the dashboard's bundle type-checks this file without Node's types.

/** The kinds of Plan (core/plan.ts): the reconciler assigns plan.kind here, so a new kind fails to compile until added. */
export type PlanKind = 'noop' | 'runtime' | 'reload';

export type ApplyResult = 'ok' | 'failed' | 'rejected' | 'deferred';

/** One entry of the apply ledger. */
export interface ApplyRecord {
  id: number;
  at: string;
  triggers: string[];
  plan: PlanKind;
  reasons: string[];
  /** Runtime commands sent. */
  commands: number;
  durationMs: number;
  result: ApplyResult;
  /** What went wrong: HAProxy's own words where it said something. */
  error?: string;
  workerPid?: number;
  generation?: number;
  /** Set on entries that record an event rather than an apply: a health gate's timeout, HAProxy exiting, a renewed certificate. */
  event?: 'health-gate-timeout' | 'haproxy-exited' | 'certificate-rotated';
}
