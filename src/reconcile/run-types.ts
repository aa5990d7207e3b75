// The shapes the parts of the loop share (reconciler.ts and the rooms it is
// split into): one run, what it yields, what is served, and the bounds they
// all keep to.
import type { Issue } from '../core/issues.js';
import type { ObjectRef } from '../core/haproxy-output/check-errors.js';
import { sameManifest } from '../core/manifests/last-good.js';
import type { LocatedManifest } from '../core/manifests/manifests.js';
import type { LoadedManifest } from '../core/manifests/model.js';
import type { Plan } from '../core/planning/plan.js';
import type { ApplyResult } from '../core/planning/ledger.js';
import type { DesiredState } from '../core/rendering/desired-state.js';
import type { TlsCandidate } from './certificates.js';
import type { WorkResult } from './work-queue.js';

/** How one run ended: the result of the ledger entry it made, noop when it made none, error when it threw. */
export type ReconcileResult = ApplyResult | 'noop' | 'error';

/** What one run did, and what it asks of the queue (run again after a while). */
export interface Outcome {
  result: ApplyResult | 'noop';
  work?: WorkResult;
}

/** One run: why it runs, and since when (for the ledger's durations). */
export interface Run {
  triggers: string[];
  started: number;
}

/** haproxy -c on what a read of the manifests would serve: ok, or HAProxy's complaints and the objects they name. */
export type CandidateCheck =
  { ok: true } | { ok: false; complaints: { culprits: ObjectRef[]; message: string }[]; error: string };

/** A read of the manifests directory: every object found, every problem. */
export interface ManifestRead {
  manifests: readonly LocatedManifest[];
  issues: readonly Issue[];
}

/** What HAProxy serves: the config, its desired state, the manifests behind it, its generation. */
export interface Applied {
  config: string;
  state: DesiredState;
  manifests: LoadedManifest[];
  generation: number;
}

/** What the loop's parts share between runs: what is served, and what the next run must do about it. */
export interface LoopState {
  applied?: Applied;
  /** A config that failed to apply, not tried again before retryAt. */
  failed?: { hash: string; retryAt: number };
  /** Why the next run must reload, whatever the plan says. */
  forceReload?: string;
}

/** One run's candidate: what was declared, what would be served, rendered, and what moved in deploys. */
export interface Candidate {
  declared: { manifests: LocatedManifest[]; issues: Issue[] };
  manifests: LoadedManifest[];
  state: DesiredState;
  config: string;
  notes: string[];
  tls: TlsCandidate;
}

/** A config that failed to apply is tried again after this. */
export const FAILED_RETRY_MS = 30_000;
/** How often a rollout in progress or a switch waiting for a health check is looked at again. */
export const DEPLOY_TICK_MS = 1000;
/** Triggers that find nothing to do without being worth a ledger entry. */
export const QUIET_TRIGGERS = new Set(['resync', 'watch-settle', 'tick', 'certificate-file', 'acme']);

/** A list for a message: a refusal of a thousand objects must not become a megabyte of log. */
export function listed(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export const sameManifests = (a: readonly LoadedManifest[], b: readonly LoadedManifest[]): boolean =>
  a.length === b.length && a.every((m, i) => sameManifest(m, b[i] as LoadedManifest));

/** The plan with what moved in rollouts and gates in front of its reasons. */
export const withNotes = (plan: Plan, notes: readonly string[]): Plan =>
  notes.length === 0 ? plan : { ...plan, reasons: [...notes, ...plan.reasons] };

/** The file that declared an object, for HAProxy's complaints about its section. */
export const sourceLookup =
  (manifests: readonly LoadedManifest[]) =>
  (kind: 'Frontend' | 'Backend', name: string): string | undefined =>
    manifests.find((m) => m.manifest.kind === kind && m.manifest.metadata.name === name)?.source.file;
