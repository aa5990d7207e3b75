// From manifest files (as text) to the set of valid objects, with every
// problem reported as an Issue. Pure: the caller reads the files.
import { bindsOverlap, parseBind, type BindAddress, type ReservedBind } from './bind.js';
import type { Issue } from '../issues.js';
import {
  KINDS,
  type BackendManifest,
  type FrontendManifest,
  type Kind,
  type LoadedManifest,
  type Manifest,
} from './model.js';
import { formatPath, validateBackend, validateFrontend, type PathSegments } from './schema-validation.js';
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
  issues: Issue[];
}

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
    const result = kind === 'Frontend' ? validateFrontend(data) : validateBackend(data);
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

function checkBackend(b: LocatedManifest<BackendManifest>, issues: Issue[]): boolean {
  const seen = new Map<string, number>();
  let ok = checkDeploy(b, issues);
  b.manifest.spec.members.forEach((m, i) => {
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

function checkBinds(
  frontends: LocatedManifest<FrontendManifest>[],
  issues: Issue[],
  reserved: readonly ReservedBind[],
): Set<LocatedManifest<FrontendManifest>> {
  const rejected = new Set<LocatedManifest<FrontendManifest>>();
  const claims: { f: LocatedManifest<FrontendManifest>; addr: BindAddress }[] = [];
  for (const f of frontends) {
    const parsed = parseBind(f.manifest.spec.bind);
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
      claims.push({ f, addr });
      const taken = reserved.find((r) => bindsOverlap(r.address, addr));
      if (taken === undefined) continue;
      issues.push(
        objectIssue(f, ['spec', 'bind'], {
          code: 'bind-conflict',
          message: `${addr.text} conflicts with ${taken.address.text}, where ${taken.owner} listens`,
        }),
      );
      rejected.add(f);
    }
  }
  // Only addresses on the same port can overlap: compare within each port.
  const byPort = new Map<number, typeof claims>();
  for (const c of claims) {
    const group = byPort.get(c.addr.port);
    if (group === undefined) byPort.set(c.addr.port, [c]);
    else group.push(c);
  }
  for (const group of byPort.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i];
        const b = group[j];
        if (a === undefined || b === undefined || !bindsOverlap(a.addr, b.addr)) continue;
        if (a.f === b.f) {
          issues.push(
            objectIssue(a.f, ['spec', 'bind'], {
              code: 'bind-conflict',
              message: `${b.addr.text} overlaps ${a.addr.text} in the same bind list`,
            }),
          );
          rejected.add(a.f);
          continue;
        }
        for (const [x, y] of [
          [a, b],
          [b, a],
        ] as const) {
          issues.push(
            objectIssue(x.f, ['spec', 'bind'], {
              code: 'bind-conflict',
              message: `${x.addr.text} conflicts with ${y.addr.text} of frontend '${y.f.manifest.metadata.name}' in ${where(y.f)}`,
            }),
          );
          rejected.add(x.f);
        }
      }
    }
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
  reserved: readonly ReservedBind[] = [],
): ManifestSet {
  const issues: Issue[] = [];
  const ofKind = <K extends Kind>(kind: K) =>
    manifests.filter((m) => m.manifest.kind === kind) as LocatedManifest<Extract<Manifest, { kind: K }>>[];
  const backends = rejectDuplicates(ofKind('Backend'), issues).filter((b) => checkBackend(b, issues));
  const backendsByName = new Map(backends.map((b) => [b.manifest.metadata.name, b.manifest]));
  let frontends = rejectDuplicates(ofKind('Frontend'), issues).filter((f) =>
    checkFrontendRefs(f, backendsByName, issues),
  );
  const conflicting = checkBinds(frontends, issues, reserved);
  frontends = frontends.filter((f) => !conflicting.has(f));
  return { frontends, backends, issues };
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
