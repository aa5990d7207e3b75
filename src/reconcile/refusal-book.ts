// The objects HAProxy refused, set aside so everything else applies: until
// they are edited, or (for load failures: a busy port, a limit) until a retry
// time that doubles from 30 s up to 5 min.
import type { Clock } from '../clock.js';
import { culpritsOf, describeCheckErrors } from '../core/haproxy-output/check-errors.js';
import { manifestGeneration } from '../core/manifests/identity.js';
import { objectKey, sameManifest, type Refusal } from '../core/manifests/last-good.js';
import type { LocatedManifest } from '../core/manifests/manifests.js';
import type { LoadedManifest } from '../core/manifests/model.js';
import { sourceLookup, type Candidate } from './run-types.js';

const LOAD_RETRY_MS = 30_000;
const LOAD_RETRY_CAP_MS = 300_000;

type Entry = Refusal & { retryAt?: number; backoffMs?: number };

/** What HAProxy said, about which config, and what was served and declared when it said it. */
export interface Complaint {
  config: string;
  errors: readonly { line?: number; message: string }[];
  served: readonly LoadedManifest[];
  declared: readonly LocatedManifest[];
  /** What was applied before: where no complaint names a line, the objects changed since are the suspects. */
  applied: readonly LoadedManifest[] | undefined;
  /** A reload that failed to load (retried later), rather than haproxy -c refusing (until edited). */
  loadFailure: boolean;
}

const byKey = (list: readonly LoadedManifest[]) =>
  new Map(list.map((m) => [objectKey(m.manifest.kind, m.manifest.metadata.name), m]));

export class RefusalBook {
  private readonly refusals = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  /** Every object set aside, with HAProxy's words. */
  refused(): Refusal[] {
    return [...this.refusals.values()].map(({ kind, name, generation, error }) => ({ kind, name, generation, error }));
  }

  /** The refusals in force now: a load failure whose retry time came is tried again. */
  active(): Refusal[] {
    const now = this.clock.now();
    return [...this.refusals.values()].filter((r) => r.retryAt === undefined || r.retryAt > now);
  }

  /** A refused object that was edited since gets its chance again. */
  forgetEdited(declared: readonly LocatedManifest[]): void {
    if (this.refusals.size === 0) return;
    const now = new Map(declared.map((m) => [objectKey(m.manifest.kind, m.manifest.metadata.name), m.manifest]));
    for (const [key, r] of this.refusals) {
      const m = now.get(key);
      if (m === undefined || manifestGeneration(m) !== r.generation) this.refusals.delete(key);
    }
  }

  /**
   * Sets aside the objects HAProxy's complaints point at (their declared
   * version, when that is what was served); where no complaint names an
   * object's line, the objects this apply changed. Returns what it set aside.
   */
  setAside(c: Complaint): string[] {
    const servedBy = byKey(c.served);
    const declaredBy = byKey(c.declared);
    const setAside: string[] = [];
    for (const key of this.suspects(c, servedBy)) {
      const declared = declaredBy.get(key);
      const s = servedBy.get(key);
      if (declared === undefined || s === undefined || !sameManifest(declared, s)) continue;
      this.refusals.set(key, this.entry(c, declared, this.refusals.get(key)));
      setAside.push(`${declared.source.file} ${key}`);
    }
    return setAside;
  }

  /** setAside for a run's candidate, given what was applied before it. */
  setAsideFrom(
    c: Candidate,
    errors: Complaint['errors'],
    applied: Complaint['applied'],
    loadFailure: boolean,
  ): string[] {
    return this.setAside({
      config: c.config,
      errors,
      served: c.manifests,
      declared: c.declared.manifests,
      applied,
      loadFailure,
    });
  }

  private suspects(c: Complaint, servedBy: Map<string, LoadedManifest>): string[] {
    const named = culpritsOf(c.config, c.errors).map((x) => objectKey(x.kind, x.name));
    if (named.length > 0 || c.applied === undefined) return named;
    const appliedBy = byKey(c.applied);
    const changed = (k: string, m: LoadedManifest) => {
      const before = appliedBy.get(k);
      return before === undefined || !sameManifest(before, m);
    };
    return [...servedBy].filter(([k, m]) => changed(k, m)).map(([k]) => k);
  }

  private entry(c: Complaint, declared: LoadedManifest, previous: Entry | undefined): Entry {
    const { kind, metadata } = declared.manifest;
    const error = describeCheckErrors(c.config, c.errors, sourceLookup(c.served)).join('; ');
    const backoffMs = c.loadFailure
      ? Math.min((previous?.backoffMs ?? LOAD_RETRY_MS / 2) * 2, LOAD_RETRY_CAP_MS)
      : undefined;
    return {
      kind,
      name: metadata.name,
      generation: manifestGeneration(declared.manifest),
      error,
      ...(backoffMs !== undefined && { backoffMs, retryAt: this.clock.now() + backoffMs }),
    };
  }
}
