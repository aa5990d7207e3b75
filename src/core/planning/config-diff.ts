// What applying a set of manifests would do, as a person reviews it: the
// plan (noop, runtime or reload, with reasons) and a unified diff of the
// generated config. The diff is jsdiff's; the plan is the loop's own.
import { createTwoFilesPatch } from 'diff';
import type { Issue } from '../issues.js';
import { planChanges, type Plan } from './plan.js';

export interface ConfigDiff {
  plan: Plan['kind'];
  reasons: string[];
  /** Unified diff from the served config to the candidate; empty when equal. */
  diff: string;
  /** Problems of the manifests given: objects with one keep what they were (or are left out). */
  issues: Issue[];
}

export function configDiff(served: string | undefined, candidate: string, issues: Issue[] = []): ConfigDiff {
  const plan = planChanges(served, candidate);
  const diff =
    served === candidate
      ? ''
      : createTwoFilesPatch('served/haproxy.cfg', 'candidate/haproxy.cfg', served ?? '', candidate, '', '', {
          context: 3,
        });
  return { plan: plan.kind, reasons: plan.reasons, diff, issues };
}
