// What a `natives` line may do. Natives are raw lines inside their own
// object's section: by default they may not open another section (which
// would escape the object and could reach `global`), nor run programs or
// load code, since the API that writes them may be reachable by others than
// the operator. --allowUnsafeNatives lifts this, on purpose and by name.
import { SECTION_KEYWORDS } from '../rendering/config-sections.js';
import type { Issue } from '../issues.js';
import type { LocatedManifest } from './manifests.js';

/** Directives that run programs or load code, by their first word (or "option <word>"). */
const UNSAFE_DIRECTIVES = new Map<string, string>([
  ['external-check', 'runs a program'],
  ['option external-check', 'runs a program'],
  ['insecure-fork-wanted', 'lets HAProxy fork programs'],
  ['insecure-setuid-wanted', 'lets HAProxy run setuid programs'],
  ['lua-load', 'loads Lua code'],
  ['lua-load-per-thread', 'loads Lua code'],
  ['lua-prepend-path', 'changes where Lua code is loaded from'],
  ['command', 'runs a program'],
  ['stats socket', 'opens an admin socket'],
]);

/** Why a natives line is refused under the default policy, or undefined when it is allowed. */
export function unsafeNative(line: string): string | undefined {
  const words = line.trim().toLowerCase().split(/\s+/);
  const first = words[0] ?? '';
  if (SECTION_KEYWORDS.has(first))
    return `'${first}' opens a section: natives are lines inside this object's own section`;
  const two = `${first} ${words[1] ?? ''}`;
  const why = UNSAFE_DIRECTIVES.get(two) ?? UNSAFE_DIRECTIVES.get(first);
  return why === undefined ? undefined : `'${UNSAFE_DIRECTIVES.has(two) ? two : first}' ${why}`;
}

/** The policy's issues for one object's natives, each naming the line. */
export function nativesIssues(m: LocatedManifest): Issue[] {
  const issues: Issue[] = [];
  m.manifest.spec.natives.forEach((line, i) => {
    const why = unsafeNative(line);
    if (why === undefined) return;
    const segments = ['spec', 'natives', i];
    issues.push({
      code: 'unsafe-native',
      message: `${why}; not allowed unless Aqueduct runs with --allowUnsafeNatives`,
      path: `spec.natives[${i}]`,
      file: m.source.file,
      document: m.source.document,
      line: m.lineOf(segments),
      kind: m.manifest.kind,
      name: m.manifest.metadata.name,
    });
  });
  return issues;
}

/** The read with every object whose natives break the policy moved to the issues (nothing changes when unsafe natives are allowed). */
export function applyNativesPolicy<R extends { manifests: readonly LocatedManifest[]; issues: readonly Issue[] }>(
  read: R,
  allowUnsafe: boolean,
): R {
  if (allowUnsafe) return read;
  const issues = [...read.issues];
  const manifests = read.manifests.filter((m) => {
    const found = nativesIssues(m);
    issues.push(...found);
    return found.length === 0;
  });
  return { ...read, manifests, issues };
}
