// What a `natives` line may do. Natives are raw lines inside their own
// object's section: by default they may not open another section (which
// would escape the object and could reach `global`), run programs, load
// code, or read files or the environment, since the API that writes them may
// be reachable by others than the operator. Lines are judged on the words
// HAProxy's parser produces (haproxy-words.ts), never on the text as written.
// --allowUnsafeNatives lifts this, on purpose and by name.
import { SECTION_KEYWORDS } from '../rendering/config-sections.js';
import type { Issue } from '../issues.js';
import { haproxyWords } from './haproxy-words.js';
import type { LocatedManifest } from './manifests.js';

/** Directives that run programs, load code or open admin access, by their first word (or first two). */
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
  ['load-server-state-from-file', 'reads a file'],
  ['server-state-file-name', 'reads a file'],
]);

/** Words that make HAProxy read a local file, wherever they stand in the line. */
const FILE_WORDS = new Map<string, string>([
  ['-f', 'loads patterns from a file'],
  ['file', 'serves a local file'],
  ['lf-file', 'serves a local file'],
  ['errorfile', 'serves a local file'],
  ['crt', 'reads a certificate file'],
  ['crt-list', 'reads a certificate list file'],
  ['ca-file', 'reads a file'],
  ['ca-verify-file', 'reads a file'],
  ['crl-file', 'reads a file'],
  ['issuers-chain-path', 'reads files'],
]);

/** Parts of a word (a sample expression, an action) that read files, the environment or run Lua. */
const READING_CALLS: readonly [RegExp, string][] = [
  [/(^|[^a-z0-9_.])env\s*\(/i, 'reads the environment'],
  [/(^|[^a-z0-9_.])map(_[a-z0-9_]+)?\s*\(/i, 'reads a map file'],
  [/(^|[^a-z0-9_.])(set|add|del)-(map|acl)\s*\(/i, 'changes a map or ACL file'],
  [/(^|[^a-z0-9_])lua\./i, 'runs Lua code'],
  [/\$\{/, 'reads the environment'],
];

/** Why the first word (or two) is refused, if it is. */
function unsafeDirective(words: readonly string[]): string | undefined {
  const first = (words[0] ?? '').toLowerCase();
  if (first.startsWith('.'))
    return `'${first}' is a conditional block directive: natives cannot switch other lines on or off`;
  if (SECTION_KEYWORDS.has(first))
    return `'${first}' opens a section: natives are lines inside this object's own section`;
  const two = `${first} ${(words[1] ?? '').toLowerCase()}`;
  const why = UNSAFE_DIRECTIVES.get(two) ?? UNSAFE_DIRECTIVES.get(first);
  return why === undefined ? undefined : `'${UNSAFE_DIRECTIVES.has(two) ? two : first}' ${why}`;
}

/** Why a word anywhere in the line is refused, if one is. */
function unsafeWord(words: readonly string[]): string | undefined {
  for (const word of words) {
    const fileUse = FILE_WORDS.get(word.toLowerCase());
    if (fileUse !== undefined) return `'${word}' ${fileUse}`;
    const call = READING_CALLS.find(([re]) => re.test(word));
    if (call !== undefined) return `'${word}' ${call[1]}`;
  }
  return undefined;
}

/** Why a natives line is refused under the default policy, or undefined when it is allowed. */
export function unsafeNative(line: string): string | undefined {
  const parsed = haproxyWords(line);
  if (parsed.problem !== undefined) return `HAProxy cannot read this line: ${parsed.problem}`;
  if (parsed.expansions.length > 0)
    return `'\${${parsed.expansions[0] ?? ''}}' reads the environment (HAProxy expands variables inside double quotes)`;
  // HAProxy skips a line whose first word is empty ("" global): judge the words without empty ones
  // (they hold the first ones whenever those are real); and, belt and braces, the words with every
  // quote and backslash dropped.
  const real = parsed.words.filter((w) => w !== '');
  const stripped =
    line
      .replace(/["'\\]/g, '')
      .split('#')[0]
      ?.trim()
      .split(/\s+/) ?? [];
  return unsafeDirective(real) ?? unsafeDirective(stripped) ?? unsafeWord(parsed.words);
}

/** The policy's issues for one object's natives, each naming the line. */
export function nativesIssues(m: LocatedManifest): Issue[] {
  const issues: Issue[] = [];
  if (m.manifest.kind === 'Certificate') return issues; // a certificate has no natives
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
