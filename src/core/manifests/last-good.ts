// What to serve when some manifests are invalid: the valid objects, plus
// the last good version of every object that is broken now, so a bad edit
// never takes away what is already serving. A file that no longer parses
// keeps every object it held; a backend deleted while a frontend still
// routes to it is kept too.
import { NO_OWN_ADDRESSES, type OwnAddresses } from './bind.js';
import type { Issue } from '../issues.js';
import { checkManifestSet, sortIssues, type LocatedManifest } from './manifests.js';
import type { BackendManifest, CertificateManifest, FrontendManifest, LoadedManifest, Manifest } from './model.js';

export interface StaleObject {
  kind: Manifest['kind'];
  name: string;
  reason: string;
}

export interface ServableSet {
  frontends: LoadedManifest<FrontendManifest>[];
  backends: LoadedManifest<BackendManifest>[];
  certificates: LoadedManifest<CertificateManifest>[];
  /** What the user must fix. */
  issues: Issue[];
  /** Objects served from their last good version. */
  stale: StaleObject[];
}

export const objectKey = (kind: string, name: string): string => `${kind}/${name}`;
const keyOf = (m: LoadedManifest): string => objectKey(m.manifest.kind, m.manifest.metadata.name);
/** Whether two loaded manifests declare the same object content (where they came from aside). */
export const sameManifest = (a: LoadedManifest, b: LoadedManifest): boolean =>
  JSON.stringify(a.manifest) === JSON.stringify(b.manifest);
const located = (m: LoadedManifest): LocatedManifest => ({ ...m, lineOf: () => m.source.line ?? 1 });

/** Keeps the last good version of each backend and certificate a rejected frontend uses that was deleted. */
function keepDependencies(
  f: FrontendManifest,
  candidates: ReadonlyMap<string, LocatedManifest>,
  keep: (key: string, reason: string) => boolean,
): boolean {
  const name = f.metadata.name;
  const needs = [
    ...[f.spec.backend, ...f.spec.rules.map((r) => r.backend)].map((b) => ({
      key: objectKey('Backend', b),
      why: `deleted, but frontend '${name}' still routes to it`,
    })),
    ...(f.spec.tls?.certificates ?? []).map((c) => ({
      key: objectKey('Certificate', c),
      why: `deleted, but frontend '${name}' still serves it`,
    })),
  ];
  let changed = false;
  for (const n of needs) if (!candidates.has(n.key) && keep(n.key, n.why)) changed = true;
  return changed;
}

/**
 * Chooses what to serve from this read of the manifests (schema-valid ones
 * plus the issues found while reading) and the objects last applied.
 */
export function selectServable(
  read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] },
  lastGood: readonly LoadedManifest[],
  own: OwnAddresses = NO_OWN_ADDRESSES,
): ServableSet {
  const userCheck = checkManifestSet(read.manifests, own);
  const issues = sortIssues([...read.issues, ...userCheck.issues]);
  const good = new Map(lastGood.map((m) => [keyOf(m), m]));
  const candidates = new Map<string, LocatedManifest>();
  const claimed = new Map<string, number>();
  for (const m of read.manifests) claimed.set(keyOf(m), (claimed.get(keyOf(m)) ?? 0) + 1);
  // A name claimed twice is no candidate at all: picking a copy would depend on file order.
  for (const m of read.manifests) if (claimed.get(keyOf(m)) === 1) candidates.set(keyOf(m), m);
  const stale = new Map<string, StaleObject>();
  const keep = (key: string, reason: string): boolean => {
    const lg = good.get(key);
    const current = candidates.get(key);
    if (lg === undefined || (current !== undefined && sameManifest(current, lg))) return false;
    candidates.set(key, located(lg));
    stale.set(key, { kind: lg.manifest.kind, name: lg.manifest.metadata.name, reason });
    return true;
  };

  // Objects that failed to load, or whose name is claimed twice, keep their last good version.
  for (const issue of [...read.issues, ...userCheck.issues.filter((i) => i.code === 'duplicate-name')]) {
    if (issue.kind !== undefined && issue.name !== undefined) {
      const key = objectKey(issue.kind, issue.name);
      if (!candidates.has(key)) keep(key, issue.message);
    } else if (issue.file !== undefined) {
      // The document, file or directory could not be read at all: keep everything it held.
      const where = issue.file;
      const unreadable = issue.code === 'unreadable';
      const held = (file: string): boolean =>
        unreadable && (where === '' || where.endsWith('/')) ? file.startsWith(where) : file === where;
      for (const lg of lastGood) {
        if (held(lg.source.file) && !candidates.has(keyOf(lg))) keep(keyOf(lg), `${issue.file}: ${issue.message}`);
      }
    }
  }

  // Objects rejected by the cross-object checks fall back too, until nothing changes.
  let set = checkManifestSet([...candidates.values()], own);
  for (let round = 0; round < 10; round++) {
    const accepted = new Set([...set.frontends, ...set.backends, ...set.certificates].map(keyOf));
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
      if (m.manifest.kind === 'Frontend') if (keepDependencies(m.manifest, candidates, keep)) changed = true;
    }
    if (!changed) break;
    set = checkManifestSet([...candidates.values()], own);
  }
  const { frontends, backends, certificates } = set;
  return { frontends, backends, certificates, issues, stale: [...stale.values()] };
}

/** An object HAProxy refused in the version declared now (its generation), and HAProxy's words. */
export interface Refusal {
  kind: Manifest['kind'];
  name: string;
  generation: string;
  error: string;
}

/**
 * The read with every refused object set aside as an issue, so that it is
 * served from its last good version (or not at all) like an invalid one.
 * `generationOf` names the declared version: an edit gets a fresh chance.
 */
export function withRefusals(
  read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] },
  refusals: readonly Refusal[],
  generationOf: (m: Manifest) => string,
): { manifests: LocatedManifest[]; issues: Issue[] } {
  if (refusals.length === 0) return { manifests: [...read.manifests], issues: [...read.issues] };
  const refused = new Map(refusals.map((r) => [objectKey(r.kind, r.name), r]));
  const issues = [...read.issues];
  const manifests = read.manifests.filter((m) => {
    const r = refused.get(keyOf(m));
    if (r === undefined || r.generation !== generationOf(m.manifest)) return true;
    issues.push({
      code: 'haproxy-refused',
      message: `HAProxy refuses it: ${r.error}`,
      path: '',
      file: m.source.file,
      document: m.source.document,
      line: m.source.line ?? 1,
      kind: r.kind,
      name: r.name,
    });
    return false;
  });
  return { manifests, issues };
}
