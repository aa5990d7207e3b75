// From manifest files (as text) to the set of valid objects, with every
// problem reported as an Issue. Pure: the caller reads the files.
import {
  bindsOverlap,
  NO_OWN_ADDRESSES,
  ownAddressProblem,
  parseBind,
  shadowsReserved,
  type BindAddress,
  type OwnAddresses,
} from './bind.js';
import type { Issue } from '../issues.js';
import {
  KINDS,
  type BackendManifest,
  type CertificateManifest,
  type FrontendManifest,
  type Kind,
  type LoadedManifest,
  type Manifest,
} from './model.js';
import {
  formatPath,
  validateBackend,
  validateCertificate,
  validateFrontend,
  type PathSegments,
  type SchemaIssue,
} from './schema-validation.js';
import { laterLocator, parseYamlDocuments, type YamlDocument } from './yaml-documents.js';

export interface ManifestFile {
  /** Path as it should appear in messages (relative to the manifests directory). */
  path: string;
  text: string;
  /**
   * Why the entry could not be read (permissions, size, a directory that
   * vanished): reported for this path alone, and what it held before keeps
   * serving. A path ending in '/' is a directory; '' is the whole tree.
   */
  unreadable?: string;
}

export interface LocatedManifest<M extends Manifest = Manifest> extends LoadedManifest<M> {
  /** Line of a field of this object, for messages about it. */
  lineOf(segments: PathSegments): number;
}

export interface ManifestSet {
  frontends: LocatedManifest<FrontendManifest>[];
  backends: LocatedManifest<BackendManifest>[];
  certificates: LocatedManifest<CertificateManifest>[];
  issues: Issue[];
}

const VALIDATE: Record<Kind, (data: unknown) => { value?: Manifest; issues: SchemaIssue[] }> = {
  Frontend: validateFrontend,
  Backend: validateBackend,
  Certificate: validateCertificate,
};

function documentIssue(doc: YamlDocument, file: string, issue: Omit<Issue, 'file' | 'document'>): Issue {
  return { ...issue, file, document: doc.index, line: issue.line ?? doc.line };
}

/** Parses and schema-validates every document of one file. Invalid documents become issues; the rest are returned. */
export function parseManifestFile(file: ManifestFile): { manifests: LocatedManifest[]; issues: Issue[] } {
  const manifests: LocatedManifest[] = [];
  const issues: Issue[] = [];
  if (file.unreadable !== undefined) {
    const what = file.path === '' ? 'the manifests directory' : file.path;
    issues.push({
      code: 'unreadable',
      file: file.path,
      path: '',
      message: `${what} cannot be read: ${file.unreadable}`,
    });
    return { manifests, issues };
  }
  const parsed = parseYamlDocuments(file.text, file.path);
  issues.push(...parsed.issues);
  for (const doc of parsed.documents) {
    const data = doc.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      issues.push(
        documentIssue(doc, file.path, {
          code: 'not-an-object',
          path: '',
          message: 'a manifest must be a mapping with apiVersion, kind, metadata and spec',
        }),
      );
      continue;
    }
    const record = data as Record<string, unknown>;
    const kind = record['kind'];
    const rawName = (record['metadata'] as Record<string, unknown> | undefined)?.['name'];
    const name = typeof rawName === 'string' ? rawName : undefined;
    if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
      const got = kind === undefined ? 'no kind' : `kind ${JSON.stringify(kind)}`;
      issues.push(
        documentIssue(doc, file.path, {
          code: 'unknown-kind',
          path: 'kind',
          line: doc.locate(['kind']).line,
          message: `unknown kind: ${got} (expected one of ${KINDS.join(', ')})`,
        }),
      );
      continue;
    }
    const result = VALIDATE[kind as Kind](data);
    if (result.value === undefined) {
      for (const issue of result.issues) {
        const { segments, ...rest } = issue;
        const at = doc.locate(segments);
        issues.push({
          ...rest,
          file: file.path,
          document: doc.index,
          line: at.line,
          column: at.column,
          kind,
          ...(name === undefined ? {} : { name }),
        });
      }
      continue;
    }
    manifests.push({
      manifest: result.value,
      source: { file: file.path, document: doc.index, line: doc.line },
      lineOf: lineOfLater(file.text, doc.index),
    });
  }
  return { manifests, issues };
}

// Outside parseManifestFile so the closure cannot hold that function's parse tree.
function lineOfLater(text: string, index: number): LocatedManifest['lineOf'] {
  const locate = laterLocator(text, index);
  return (segments) => locate(segments).line;
}

/** An object as kept between processes: its value and where it was, without the closure that finds lines. */
export type StoredManifest = LoadedManifest;

/**
 * Objects stored from an earlier parse of this text, put through the schemas
 * again (the store is a file, and a file can be edited); undefined when any
 * of them fails, so the caller parses the text instead.
 */
export function revalidated(text: string, stored: readonly StoredManifest[]): LocatedManifest[] | undefined {
  const out: LocatedManifest[] = [];
  for (const s of stored) {
    const validate = (KINDS as readonly unknown[]).includes(s.manifest.kind) ? VALIDATE[s.manifest.kind] : undefined;
    // Validated in place (defaults filled): a stored value is the store's own, read from JSON and used once.
    const value = validate?.(s.manifest).value;
    if (value === undefined) return undefined;
    out.push({ manifest: value, source: s.source, lineOf: lineOfLater(text, s.source.document) });
  }
  return out;
}

/** parseManifestFile over every file. */
export function parseManifestFiles(files: readonly ManifestFile[]): { manifests: LocatedManifest[]; issues: Issue[] } {
  const manifests: LocatedManifest[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    const one = parseManifestFile(file);
    manifests.push(...one.manifests);
    issues.push(...one.issues);
  }
  return { manifests, issues };
}

function objectIssue(m: LocatedManifest, segments: PathSegments, issue: Pick<Issue, 'code' | 'message'>): Issue {
  return {
    ...issue,
    path: formatPath(segments),
    file: m.source.file,
    document: m.source.document,
    line: m.lineOf(segments),
    kind: m.manifest.kind,
    name: m.manifest.metadata.name,
  };
}

const where = (m: LoadedManifest): string => `${m.source.file} (document ${m.source.document})`;

/** Rejects every object whose name is claimed twice: picking one would depend on file order. */
function rejectDuplicates<M extends Manifest>(items: LocatedManifest<M>[], issues: Issue[]): LocatedManifest<M>[] {
  const byName = new Map<string, LocatedManifest<M>[]>();
  for (const m of items) {
    const list = byName.get(m.manifest.metadata.name) ?? [];
    list.push(m);
    byName.set(m.manifest.metadata.name, list);
  }
  const kept: LocatedManifest<M>[] = [];
  for (const [name, list] of byName) {
    if (list.length === 1) {
      kept.push(...list);
      continue;
    }
    for (const m of list) {
      const others = list.filter((o) => o !== m).map(where);
      issues.push(
        objectIssue(m, ['metadata', 'name'], {
          code: 'duplicate-name',
          message: `${m.manifest.kind} '${name}' is also defined in ${others.join(', ')}`,
        }),
      );
    }
  }
  return kept;
}

/** versions and rollout: only for dynamic backends, versions listed once, steps ascending. */
function checkDeploy(b: LocatedManifest<BackendManifest>, issues: Issue[]): boolean {
  const { type, versions, rollout } = b.manifest.spec;
  const problems: { at: PathSegments; message: string }[] = [];
  if (type !== 'dynamic') {
    if (versions !== undefined)
      problems.push({ at: ['spec', 'versions'], message: 'only a dynamic backend has versions' });
    if (rollout !== undefined)
      problems.push({ at: ['spec', 'rollout'], message: 'only a dynamic backend can roll out' });
  }
  const seen = new Set<string>();
  versions?.forEach((v, i) => {
    if (seen.has(v.version))
      problems.push({ at: ['spec', 'versions', i, 'version'], message: `version ${v.version} is listed twice` });
    seen.add(v.version);
  });
  if (versions !== undefined && versions.every((v) => v.weight === 0))
    problems.push({ at: ['spec', 'versions'], message: 'at least one version needs a weight above 0' });
  rollout?.steps.forEach((step, i) => {
    const prev = rollout.steps[i - 1];
    if (prev !== undefined && step <= prev)
      problems.push({ at: ['spec', 'rollout', 'steps', i], message: `steps must ascend: ${step} follows ${prev}` });
  });
  if (rollout !== undefined && rollout.to === b.manifest.spec.version)
    problems.push({ at: ['spec', 'rollout', 'to'], message: `is already the backend's version (${rollout.to})` });
  for (const p of problems) issues.push(objectIssue(b, p.at, { code: 'schema', message: p.message }));
  return problems.length === 0;
}

/** The issue for a static member that points at one of Aqueduct's own addresses, if it does. */
function ownMemberIssue(b: LocatedManifest<BackendManifest>, i: number, own: OwnAddresses): Issue | undefined {
  const m = b.manifest.spec.members[i];
  const message = m === undefined ? undefined : ownAddressProblem(m.host, m.port, own);
  return message === undefined
    ? undefined
    : objectIssue(b, ['spec', 'members', i, 'host'], { code: 'own-address', message });
}

/**
 * A backend's own checks, which depend on nothing but the object and
 * Aqueduct's own addresses: kept per object, since every run checks every
 * backend (twice, see selectServable) and parsed objects are kept while
 * their file is unchanged (ParseCache). 10,000 members cost ~5 ms a check.
 * Checked objects and their issues are never changed in place.
 */
const backendChecks = new WeakMap<OwnAddresses, WeakMap<LocatedManifest, { ok: boolean; issues: Issue[] }>>();

function checkBackend(b: LocatedManifest<BackendManifest>, issues: Issue[], own: OwnAddresses): boolean {
  let byObject = backendChecks.get(own);
  if (byObject === undefined) backendChecks.set(own, (byObject = new WeakMap()));
  let result = byObject.get(b);
  if (result === undefined) {
    const found: Issue[] = [];
    result = { ok: checkBackendNow(b, found, own), issues: found };
    byObject.set(b, result);
  }
  issues.push(...result.issues);
  return result.ok;
}

function checkBackendNow(b: LocatedManifest<BackendManifest>, issues: Issue[], own: OwnAddresses): boolean {
  const seen = new Map<string, number>();
  let ok = checkDeploy(b, issues);
  b.manifest.spec.members.forEach((m, i) => {
    const relay = ownMemberIssue(b, i, own);
    if (relay !== undefined) {
      issues.push(relay);
      ok = false;
    }
    const key = `${m.host.toLowerCase()}:${m.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push(
        objectIssue(b, ['spec', 'members', i], {
          code: 'duplicate-member',
          message: `member ${key} is already listed at spec.members[${first}]`,
        }),
      );
      ok = false;
    } else {
      seen.set(key, i);
    }
  });
  return ok;
}

function checkFrontendRefs(
  f: LocatedManifest<FrontendManifest>,
  backends: Map<string, BackendManifest>,
  issues: Issue[],
): boolean {
  let ok = true;
  const spec = f.manifest.spec;
  const refs: { segments: PathSegments; backend: string }[] = [
    { segments: ['spec', 'backend'], backend: spec.backend },
    ...spec.rules.map((r, i) => ({ segments: ['spec', 'rules', i, 'backend'], backend: r.backend })),
  ];
  for (const ref of refs) {
    const target = backends.get(ref.backend);
    if (target === undefined) {
      issues.push(
        objectIssue(f, ref.segments, {
          code: 'missing-backend',
          message: `backend '${ref.backend}' is not defined (or is invalid)`,
        }),
      );
      ok = false;
    } else if (target.spec.mode !== spec.mode) {
      issues.push(
        objectIssue(f, ref.segments, {
          code: 'mode-mismatch',
          message: `backend '${ref.backend}' has mode ${target.spec.mode} but this frontend has mode ${spec.mode}; HAProxy needs them equal`,
        }),
      );
      ok = false;
    }
  }
  const matchers = new Map<string, { index: number; backend: string }>();
  spec.rules.forEach((r, i) => {
    const key = JSON.stringify([r.operation, r.header?.toLowerCase() ?? '', r.value]);
    const prev = matchers.get(key);
    if (prev === undefined) matchers.set(key, { index: i, backend: r.backend });
    else if (prev.backend !== r.backend) {
      issues.push(
        objectIssue(f, ['spec', 'rules', i], {
          code: 'rule-conflict',
          message: `matches the same requests as spec.rules[${prev.index}] but routes to '${r.backend}' instead of '${prev.backend}'`,
        }),
      );
      ok = false;
    }
  });
  return ok;
}

/** A certificate names one source: a pair of files, or ACME. */
function checkCertificate(c: LocatedManifest<CertificateManifest>, issues: Issue[]): boolean {
  const { certFile, acme } = c.manifest.spec;
  if ((certFile === undefined) !== (acme === undefined)) return true;
  const message =
    acme === undefined
      ? 'must name its source: certFile and keyFile, or acme'
      : 'names two sources: give certFile and keyFile, or acme, not both';
  issues.push(objectIssue(c, ['spec'], { code: 'schema', message }));
  return false;
}

/** TLS, its default certificate, HTTPS redirects and HSTS: each where it means something. */
function checkFrontendTls(f: LocatedManifest<FrontendManifest>, certs: ReadonlySet<string>, issues: Issue[]): boolean {
  const { tls, redirectToHttps, hsts, mode } = f.manifest.spec;
  const problems: { at: PathSegments; message: string; code?: 'missing-certificate' }[] = [];
  tls?.certificates.forEach((name, i) => {
    if (!certs.has(name))
      problems.push({
        at: ['spec', 'tls', 'certificates', i],
        message: `certificate '${name}' is not defined (or is invalid)`,
        code: 'missing-certificate',
      });
  });
  const byDefault = tls?.defaultCertificate;
  if (byDefault !== undefined && !tls?.certificates.includes(byDefault))
    problems.push({ at: ['spec', 'tls', 'defaultCertificate'], message: `'${byDefault}' is not in tls.certificates` });
  if (redirectToHttps !== undefined && (tls !== undefined || mode !== 'http'))
    problems.push({
      at: ['spec', 'redirectToHttps'],
      message: 'is for a plain-HTTP frontend (mode http, no tls): it sends clients to the HTTPS one',
    });
  if (hsts !== undefined && (tls === undefined || mode !== 'http'))
    problems.push({ at: ['spec', 'hsts'], message: 'needs tls and mode http: browsers ignore HSTS over plain HTTP' });
  for (const p of problems) issues.push(objectIssue(f, p.at, { code: p.code ?? 'schema', message: p.message }));
  return problems.length === 0;
}

interface BindClaim {
  f: LocatedManifest<FrontendManifest>;
  addr: BindAddress;
  /** Position among all claims: the earlier of two overlapping claims is named by the later one. */
  order: number;
}

/** Claims of one port, indexed so each claim's first overlapping claim is found in constant time. */
class PortClaims {
  private readonly byCanonical = new Map<string, BindClaim[]>();
  private readonly dualStack: BindClaim[] = [];
  private readonly ipv4Wildcard: BindClaim[] = [];
  private readonly ipv4: BindClaim[] = [];
  readonly all: BindClaim[] = [];

  add(c: BindClaim): void {
    this.all.push(c);
    const same = this.byCanonical.get(c.addr.canonical);
    if (same === undefined) this.byCanonical.set(c.addr.canonical, [c]);
    else same.push(c);
    if (c.addr.canonical === '[::]') this.dualStack.push(c);
    else if (c.addr.canonical === '*') this.ipv4Wildcard.push(c);
    if (!c.addr.canonical.startsWith('[')) this.ipv4.push(c);
  }

  /** The first other claim that overlaps c (bindsOverlap's rules), if any. */
  firstOverlap(c: BindClaim): BindClaim | undefined {
    const other = (list: readonly BindClaim[] | undefined) => list?.find((x) => x !== c);
    const v4 = !c.addr.canonical.startsWith('[');
    const candidates = [
      other(this.byCanonical.get(c.addr.canonical)),
      other(this.dualStack),
      c.addr.canonical === '[::]' ? other(this.all) : undefined,
      c.addr.canonical === '*' ? other(this.ipv4) : undefined,
      v4 ? other(this.ipv4Wildcard) : undefined,
    ].filter((x): x is BindClaim => x !== undefined);
    return candidates.sort((a, b) => a.order - b.order)[0];
  }
}

/** Every frontend's bind claims, grouped by port; a frontend with a port out of range is refused. */
function claimBinds(frontends: readonly LocatedManifest<FrontendManifest>[], issues: Issue[], own: OwnAddresses) {
  const rejected = new Set<LocatedManifest<FrontendManifest>>();
  const byPort = new Map<number, PortClaims>();
  let order = 0;
  for (const f of frontends) {
    const parsed = parseBind(f.manifest.spec.bind, own.hosts);
    if (parsed.badPort !== undefined) {
      issues.push(
        objectIssue(f, ['spec', 'bind'], {
          code: 'schema',
          message: `'${parsed.badPort}': the port must be between 1 and 65535`,
        }),
      );
      rejected.add(f);
      continue;
    }
    for (const addr of parsed.addresses) {
      const group = byPort.get(addr.port) ?? new PortClaims();
      byPort.set(addr.port, group);
      group.add({ f, addr, order: order++ });
    }
  }
  return { rejected, byPort };
}

/** The issue for a claim that takes or shadows one of Aqueduct's own listeners, if it does. */
function reservedConflict(c: BindClaim, own: OwnAddresses): Issue | undefined {
  const taken = own.binds.find((r) => shadowsReserved(r.address, c.addr));
  if (taken === undefined) return undefined;
  const how = bindsOverlap(taken.address, c.addr) ? 'conflicts with' : 'shadows (clients of localhost would reach it)';
  return objectIssue(c.f, ['spec', 'bind'], {
    code: 'bind-conflict',
    message: `${c.addr.text} ${how} ${taken.address.text}, where ${taken.owner} listens`,
  });
}

/** The issue for a claim that overlaps another frontend's (or its own list's), if it does. */
function overlapConflict(c: BindClaim, group: PortClaims): Issue | undefined {
  const d = group.firstOverlap(c);
  // Within one list, only the later of two claims speaks: one issue per duplicate.
  if (d === undefined || (d.f === c.f && d.order > c.order)) return undefined;
  const message =
    d.f === c.f
      ? `${c.addr.text} overlaps ${d.addr.text} in the same bind list`
      : `${c.addr.text} conflicts with ${d.addr.text} of frontend '${d.f.manifest.metadata.name}' in ${where(d.f)}`;
  return objectIssue(c.f, ['spec', 'bind'], { code: 'bind-conflict', message });
}

/**
 * Frontends whose binds take one of Aqueduct's own addresses or compete
 * with another bind for a socket. Linear in the number of addresses: claims
 * are grouped by port and indexed by meaning, and each names its first
 * conflict only (a hostile body with thousands of addresses cannot make the
 * check, or its answer, quadratic).
 */
function checkBinds(
  frontends: LocatedManifest<FrontendManifest>[],
  issues: Issue[],
  own: OwnAddresses,
): Set<LocatedManifest<FrontendManifest>> {
  const { rejected, byPort } = claimBinds(frontends, issues, own);
  for (const group of byPort.values())
    for (const c of group.all) {
      const issue = reservedConflict(c, own) ?? overlapConflict(c, group);
      if (issue === undefined) continue;
      issues.push(issue);
      rejected.add(c.f);
    }
  return rejected;
}

/**
 * Cross-object checks on schema-valid manifests: duplicate names, static
 * member duplicates, bind conflicts, and frontends whose backends are
 * missing, invalid or of another mode. Returns what may be served.
 */
export function checkManifestSet(
  manifests: readonly LocatedManifest[],
  own: OwnAddresses = NO_OWN_ADDRESSES,
): ManifestSet {
  const issues: Issue[] = [];
  const ofKind = <K extends Kind>(kind: K) =>
    manifests.filter((m) => m.manifest.kind === kind) as LocatedManifest<Extract<Manifest, { kind: K }>>[];
  const backends = rejectDuplicates(ofKind('Backend'), issues).filter((b) => checkBackend(b, issues, own));
  const backendsByName = new Map(backends.map((b) => [b.manifest.metadata.name, b.manifest]));
  const certificates = rejectDuplicates(ofKind('Certificate'), issues).filter((c) => checkCertificate(c, issues));
  const certNames = new Set(certificates.map((c) => c.manifest.metadata.name));
  let frontends = rejectDuplicates(ofKind('Frontend'), issues).filter(
    // Both checks run: each reports its own issues.
    (f) => [checkFrontendRefs(f, backendsByName, issues), checkFrontendTls(f, certNames, issues)].every(Boolean),
  );
  const conflicting = checkBinds(frontends, issues, own);
  frontends = frontends.filter((f) => !conflicting.has(f));
  return { frontends, backends, certificates, issues };
}

/** parseManifestFiles then checkManifestSet: the whole path from files to servable objects. */
export function loadManifestSet(files: readonly ManifestFile[]): ManifestSet {
  const parsed = parseManifestFiles(files);
  const set = checkManifestSet(parsed.manifests);
  return { ...set, issues: sortIssues([...parsed.issues, ...set.issues]) };
}

/** Issues in reading order: by file, document, line, column (stable for ties). */
export function sortIssues(issues: Issue[]): Issue[] {
  const key = (i: Issue): [string, number, number, number] => [
    i.file ?? '',
    i.document ?? 0,
    i.line ?? 0,
    i.column ?? 0,
  ];
  return issues.sort((a, b) => {
    const [fa, da, la, ca] = key(a);
    const [fb, db, lb, cb] = key(b);
    return (fa < fb ? -1 : fa > fb ? 1 : 0) || da - db || la - lb || ca - cb;
  });
}
