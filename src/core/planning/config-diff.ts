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

/**
 * The most changed lines a diff is computed for. Myers' algorithm costs
 * O(N·D): 4,000 changed lines took 4.7 s of the event loop, 1,000 stay well
 * under 100 ms (bench/request-cost.bench.ts). Past it the answer says so.
 */
export const MAX_DIFF_EDITS = 1000;

const lineCount = (text: string): number => (text === '' ? 0 : text.split('\n').length);

export function configDiff(served: string | undefined, candidate: string, issues: Issue[] = []): ConfigDiff {
  const plan = planChanges(served, candidate);
  const from = served ?? '';
  const diff =
    served === candidate
      ? ''
      : (createTwoFilesPatch('served/haproxy.cfg', 'candidate/haproxy.cfg', from, candidate, '', '', {
          context: 3,
          maxEditLength: MAX_DIFF_EDITS,
        }) ??
        `--- served/haproxy.cfg\n+++ candidate/haproxy.cfg\n# more than ${MAX_DIFF_EDITS} lines changed: the diff is not shown (served ${lineCount(from)} lines, candidate ${lineCount(candidate)} lines)\n`);
  return { plan: plan.kind, reasons: plan.reasons, diff, issues };
}
