// What to serve when some manifests are invalid: the valid objects, plus
// the last good version of every object that is broken now, so a bad edit
// never takes away what is already serving. A file that no longer parses
// keeps every object it held; a backend deleted while a frontend still
// routes to it is kept too.
import type { Issue } from './issues.js';
import { checkManifestSet, sortIssues, type LocatedManifest } from './manifests.js';
import type { BackendManifest, FrontendManifest, LoadedManifest, Manifest } from './model.js';

export interface StaleObject {
  kind: Manifest['kind'];
  name: string;
  reason: string;
}

export interface ServableSet {
  frontends: LoadedManifest<FrontendManifest>[];
  backends: LoadedManifest<BackendManifest>[];
  /** What the user must fix. */
  issues: Issue[];
  /** Objects served from their last good version. */
  stale: StaleObject[];
}

export const objectKey = (kind: string, name: string): string => `${kind}/${name}`;
const keyOf = (m: LoadedManifest): string => objectKey(m.manifest.kind, m.manifest.metadata.name);
const same = (a: LoadedManifest, b: LoadedManifest): boolean =>
  JSON.stringify(a.manifest) === JSON.stringify(b.manifest);
const located = (m: LoadedManifest): LocatedManifest => ({ ...m, lineOf: () => m.source.line ?? 1 });

/**
 * Chooses what to serve from this read of the manifests (schema-valid ones
 * plus the issues found while reading) and the objects last applied.
 */
export function selectServable(
  read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] },
  lastGood: readonly LoadedManifest[],
): ServableSet {
  const userCheck = checkManifestSet(read.manifests);
  const issues = sortIssues([...read.issues, ...userCheck.issues]);
  const good = new Map(lastGood.map((m) => [keyOf(m), m]));
  const candidates = new Map<string, LocatedManifest>();
  for (const m of read.manifests) candidates.set(keyOf(m), m);
  const stale = new Map<string, StaleObject>();
  const keep = (key: string, reason: string): boolean => {
    const lg = good.get(key);
    const current = candidates.get(key);
    if (lg === undefined || (current !== undefined && same(current, lg))) return false;
    candidates.set(key, located(lg));
    stale.set(key, { kind: lg.manifest.kind, name: lg.manifest.metadata.name, reason });
    return true;
  };

  // Objects that failed to load keep their last good version.
  for (const issue of read.issues) {
    if (issue.kind !== undefined && issue.name !== undefined) {
      const key = objectKey(issue.kind, issue.name);
      if (!candidates.has(key)) keep(key, issue.message);
    } else if (issue.file !== undefined) {
      // The document could not be read at all: keep everything its file held.
      for (const lg of lastGood) {
        if (lg.source.file === issue.file && !candidates.has(keyOf(lg)))
          keep(keyOf(lg), `${issue.file}: ${issue.message}`);
      }
    }
  }

  // Objects rejected by the cross-object checks fall back too, until nothing changes.
  let set = checkManifestSet([...candidates.values()]);
  for (let round = 0; round < 10; round++) {
    const accepted = new Set([...set.frontends, ...set.backends].map(keyOf));
    let changed = false;
    for (const [key, m] of candidates) {
      if (accepted.has(key)) continue;
      const why =
        set.issues.find((i) => i.kind === m.manifest.kind && i.name === m.manifest.metadata.name)?.message ??
        'rejected';
      if (keep(key, why)) {
        changed = true;
        continue;
      }
      if (m.manifest.kind === 'Frontend') {
        const spec = m.manifest.spec;
        for (const b of [spec.backend, ...spec.rules.map((r) => r.backend)]) {
          const bk = objectKey('Backend', b);
          if (!candidates.has(bk) && keep(bk, `deleted, but frontend '${m.manifest.metadata.name}' still routes to it`))
            changed = true;
        }
      }
    }
    if (!changed) break;
    set = checkManifestSet([...candidates.values()]);
  }
  return { frontends: set.frontends, backends: set.backends, issues, stale: [...stale.values()] };
}
