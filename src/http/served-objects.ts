// The read side of the objects: every object with its status, computed
// from a read of the manifests and what the loop serves (memoised: a burst of
// GETs computes it once), why a backend is held, and the wait of a write's
// ?wait=applied until HAProxy serves it.
import type { Clock } from '../clock.js';
import { formatIssue } from '../core/issues.js';
import { objectStatus, type ObjectStatus } from '../core/manifests/api-objects.js';
import { manifestGeneration } from '../core/manifests/identity.js';
import { objectKey } from '../core/manifests/last-good.js';
import type { Kind, LoadedManifest, Manifest } from '../core/manifests/model.js';
import { compareStrings } from '../core/rendering/desired-state.js';
import type { ApplyRecord } from '../reconcile/reconciler.js';
import type { ManifestView } from '../sources/manifest-store.js';
import type { Candidates } from '../reconcile/candidates.js';
import type { ServedView } from '../reconcile/served-view.js';

/** The part of the reconciler the API reads: what is served, and the candidate a write would make. */
export interface LoopView {
  served: Pick<
    ServedView,
    'appliedManifests' | 'ledger' | 'refused' | 'afterDriftCheck' | 'certificateStates' | 'deployStatus'
  >;
  candidates: Pick<Candidates, 'checkCandidate' | 'servableOf'>;
  onApply(listener: (r: ApplyRecord) => void): () => void;
}

/** How a write's ?wait=applied ended. */
export interface WaitOutcome {
  outcome: 'applied' | 'held' | 'failed' | 'timeout';
  apply?: ApplyRecord;
  /** Why it is held (outcome held). */
  held?: string;
}

/** One object with everything the API shows about it. */
export interface ObjectEntry {
  manifest: Manifest;
  status: ObjectStatus;
}

export interface Overview {
  objects: ObjectEntry[];
  issues: string[];
}

/** Why a backend is not served as declared now: a hold, unresolved members, or a health gate still waiting. */
export function heldReason(loop: LoopView, backend: string): string | undefined {
  const { held, healthGate, unresolved } = loop.served.deployStatus(backend);
  if (held !== undefined) return held;
  if (unresolved !== undefined)
    return `unresolved: HAProxy cannot resolve ${unresolved.join(', ')}; those members stay in maintenance until their host names resolve`;
  if (healthGate === undefined) return undefined;
  const timedOut = healthGate.timedOut ? ' (past its timeout)' : '';
  return `held: waiting for one of ${healthGate.waitingFor.join(', ')} to pass its health check${timedOut}; the current servers keep serving`;
}

export class ServedObjects {
  private memo: { key: unknown[]; value: Overview } | undefined;

  constructor(private readonly deps: { loop: LoopView; clock: Clock }) {}

  /**
   * The objects' status for a read of the manifests: the store's (the API),
   * or the loop's last one (the metrics, which must not read the directory
   * at every scrape).
   */
  overviewOf(read: Pick<ManifestView, 'manifests' | 'issues'>): { objects: ObjectEntry[]; issues: string[] } {
    const applied = this.deps.loop.served.appliedManifests();
    const refused = this.deps.loop.served.refused();
    // The same inputs give the same overview: a burst of GETs computes it once.
    const key = [read, applied, JSON.stringify(refused), this.deps.loop.served.ledger().at(-1)?.id];
    if (this.memo !== undefined && key.every((k, i) => k === this.memo?.key[i])) return this.memo.value;
    const value = this.computeOverview(read, applied);
    this.memo = { key, value };
    return value;
  }

  private computeOverview(
    view: Pick<ManifestView, 'manifests' | 'issues'>,
    applied: readonly LoadedManifest[],
  ): { objects: ObjectEntry[]; issues: string[] } {
    const servable = this.deps.loop.candidates.servableOf(view);
    const issues = servable.issues.map(formatIssue);
    const issuesBy = new Map<string, string[]>();
    servable.issues.forEach((i, n) => {
      if (i.kind === undefined || i.name === undefined) return;
      const k = objectKey(i.kind, i.name);
      issuesBy.set(k, [...(issuesBy.get(k) ?? []), issues[n] as string]);
    });
    for (const s of servable.stale) {
      const k = objectKey(s.kind, s.name);
      if (!issuesBy.has(k)) issuesBy.set(k, [`serving the last good version: ${s.reason}`]);
    }
    const appliedBy = new Map(applied.map((a) => [objectKey(a.manifest.kind, a.manifest.metadata.name), a]));
    const last = this.deps.loop.served.ledger().at(-1);
    const lastApplyError = last?.result === 'rejected' || last?.result === 'failed' ? last.error : undefined;
    const out: ObjectEntry[] = [];
    const seen = new Set<string>();
    const claims = new Map<string, number>();
    for (const m of view.manifests) {
      const k = objectKey(m.manifest.kind, m.manifest.metadata.name);
      claims.set(k, (claims.get(k) ?? 0) + 1);
    }
    const add = (desired: LoadedManifest | undefined, served: LoadedManifest | undefined) => {
      const shown = desired ?? served;
      if (shown === undefined) return;
      const k = objectKey(shown.manifest.kind, shown.manifest.metadata.name);
      if (seen.has(k)) return; // a duplicate name: the first one stands for it, its issue says the rest
      seen.add(k);
      // A name declared twice has no one declared version: neither copy is served.
      const declared = (claims.get(k) ?? 0) > 1 ? undefined : desired;
      const held =
        shown.manifest.kind === 'Backend' ? heldReason(this.deps.loop, shown.manifest.metadata.name) : undefined;
      out.push({
        manifest: shown.manifest,
        status: objectStatus({
          ...(declared && { desired: declared.manifest }),
          ...(served && { applied: served.manifest }),
          file: shown.source.file,
          issues: issuesBy.get(k) ?? [],
          ...(lastApplyError !== undefined && { lastApplyError }),
          ...(held !== undefined && { held }),
        }),
      });
    };
    for (const m of view.manifests) add(m, appliedBy.get(objectKey(m.manifest.kind, m.manifest.metadata.name)));
    // Objects whose manifest no longer parses but which HAProxy still serves.
    for (const s of servable.stale) add(undefined, appliedBy.get(objectKey(s.kind, s.name)));
    out.sort((a, b) => compareStrings(a.manifest.metadata.name, b.manifest.metadata.name));
    return { objects: out, issues };
  }

  /**
   * Resolves once HAProxy serves the object at this generation (null: not at
   * all, after a delete) as declared: a backend's health gate must have
   * passed, and a backend held from a switch to nothing resolves as held.
   * Or an apply that began after `since` failed, or the time is up.
   */
  waitApplied(
    kind: Kind,
    name: string,
    generation: string | null,
    since: number,
    timeoutMs: number,
  ): Promise<WaitOutcome> {
    const { loop } = this.deps;
    const settled = (apply?: ApplyRecord): WaitOutcome | undefined => {
      const m = loop.served
        .appliedManifests()
        .find((a) => a.manifest.kind === kind && a.manifest.metadata.name === name)?.manifest;
      if ((m === undefined ? null : manifestGeneration(m)) !== generation) return undefined;
      const deploy = m === undefined || kind !== 'Backend' ? {} : loop.served.deployStatus(name);
      if (deploy.healthGate !== undefined && !deploy.healthGate.timedOut) return undefined; // still waiting
      const held = m === undefined || kind !== 'Backend' ? undefined : heldReason(this.deps.loop, name);
      const outcome: WaitOutcome = held === undefined ? { outcome: 'applied' } : { outcome: 'held', held };
      return apply === undefined ? outcome : { ...outcome, apply };
    };
    const now = settled();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (r: WaitOutcome) => {
        cancel();
        stop();
        resolve(r);
      };
      const stop = loop.onApply((record) => {
        if (record.result === 'ok' && record.plan === 'reload') {
          // What the new worker serves (members it cannot resolve) is read by the drift check right after.
          void Promise.resolve()
            .then(() => loop.served.afterDriftCheck())
            .then(() => {
              const s = settled(record);
              if (s !== undefined) done(s);
            });
          return;
        }
        // Any entry may be the one that settles it: an apply, or a gate's timeout recorded as an event.
        const s = settled(record.result === 'ok' ? record : undefined);
        if (s !== undefined) return done(s);
        const began = Date.parse(record.at) - record.durationMs;
        // Events in the ledger (a gate's timeout, HAProxy exiting) are not this write's apply failing.
        if (
          (record.result === 'failed' || record.result === 'rejected') &&
          began >= since &&
          record.event === undefined
        )
          done({ outcome: 'failed', apply: record });
      });
      const cancel = this.deps.clock.after(timeoutMs, () => done({ outcome: 'timeout' }));
    });
  }
}
