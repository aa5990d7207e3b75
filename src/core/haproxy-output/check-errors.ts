// Maps haproxy -c complaints about the rendered config back to the manifest
// object that produced the offending line.
import type { Issue } from '../issues.js';
import type { LocatedManifest } from '../manifests/manifests.js';
import type { CheckMessageLike } from './check-message.js';
import { routeMapsOf } from '../rendering/config-sections.js';
import { mapName } from '../rendering/route-maps.js';

export interface SourceLookup {
  (kind: 'Frontend' | 'Backend', name: string): string | undefined;
}

/** The section ("backend live") a line of the config belongs to. */
export function sectionAtLine(config: string, line: number): { kind: string; name: string } | undefined {
  const lines = config.split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const m = /^(global|defaults|frontend|backend|listen)\b\s*(\S*)/.exec(lines[i] ?? '');
    if (m !== null) return { kind: m[1] as string, name: m[2] ?? '' };
  }
  return undefined;
}

/** A complaint about a routing map's entry ("… at line 2 of file '<dir>/web.1.map'"): the rule it came from. */
export function mapEntryOf(
  config: string,
  message: string,
): { said: string; key: string; backend: string; map: string; entry: number } | undefined {
  const m = /at line (\d+) of file '([^']+)'/.exec(message);
  if (m === null) return undefined;
  const base = mapName(m[2] ?? '');
  const entry = Number(m[1]);
  for (const [file, entries] of routeMapsOf(config)) {
    const found = mapName(file) === base ? entries[entry - 1] : undefined;
    if (found !== undefined) return { said: m[0], key: found[0], backend: found[1], map: base, entry };
  }
  return undefined;
}

/** The message with a map entry's place said as its rule. */
function withRule(message: string, e: ReturnType<typeof mapEntryOf>): string {
  return e === undefined
    ? message
    : message.replace(e.said, `in the rule for '${e.key}' to ${e.backend} (routing map ${e.map}, entry ${e.entry})`);
}

/** HAProxy's closing summary lines repeat what the others said: left out, unless they are all there is. */
const SUMMARY = /^(Error\(s\) found in configuration file|Fatal errors found in configuration)/;
function withoutSummaries<E extends CheckMessageLike>(errors: readonly E[]): readonly E[] {
  const useful = errors.filter((e) => !SUMMARY.test(e.message));
  return useful.length > 0 ? useful : errors;
}

/** "backends/live.yaml Backend/live: <haproxy message>" where the line can be traced, else the message. */
export function describeCheckErrors(
  config: string,
  errors: readonly CheckMessageLike[],
  sourceOf: SourceLookup,
): string[] {
  return withoutSummaries(errors).map((e) => {
    if (e.line === undefined) return e.message;
    const section = sectionAtLine(config, e.line);
    if (section?.kind === 'frontend' || section?.kind === 'backend') {
      const kind = section.kind === 'frontend' ? 'Frontend' : 'Backend';
      const file = sourceOf(kind, section.name);
      const said = withRule(e.message, mapEntryOf(config, e.message));
      return `${file === undefined ? '' : `${file} `}${kind}/${section.name}: ${said} (config line ${e.line})`;
    }
    return `config line ${e.line}: ${e.message}`;
  });
}

/** An object of the manifests, as HAProxy's complaints name it. */
export interface ObjectRef {
  kind: 'Frontend' | 'Backend';
  name: string;
}

/**
 * The objects whose sections hold the lines HAProxy complains about, once
 * each; empty when no complaint names a line inside a frontend or backend.
 */
export function culpritsOf(config: string, errors: readonly CheckMessageLike[]): ObjectRef[] {
  const seen = new Map<string, ObjectRef>();
  for (const e of errors) {
    if (e.line === undefined) continue;
    const section = sectionAtLine(config, e.line);
    if (section?.kind !== 'frontend' && section?.kind !== 'backend') continue;
    const ref: ObjectRef = { kind: section.kind === 'frontend' ? 'Frontend' : 'Backend', name: section.name };
    seen.set(`${ref.kind}/${ref.name}`, ref);
  }
  return [...seen.values()];
}

/** HAProxy's load-time complaints ("[/path/haproxy.cfg:27] for frontend busy: ...") as messages with their config line. */
export function loadErrorsOf(message: string, cfgPath: string): CheckMessageLike[] {
  const escaped = cfgPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const at = new RegExp(`${escaped}:(\\d+)\\]`);
  return message.split(' | ').map((m) => {
    const line = at.exec(m)?.[1];
    return line === undefined ? { message: m } : { line: Number(line), message: m };
  });
}

/**
 * haproxy -c complaints as issues on the manifests: the object whose section
 * holds the line, and where a `natives` entry produced that very line, that
 * entry's own line in its file.
 */
export function checkIssues(
  config: string,
  errors: readonly CheckMessageLike[],
  manifests: readonly LocatedManifest[],
): Issue[] {
  const lines = config.split('\n');
  return withoutSummaries(errors).map((e): Issue => {
    const section = e.line === undefined ? undefined : sectionAtLine(config, e.line);
    const kind = section?.kind === 'frontend' ? 'Frontend' : section?.kind === 'backend' ? 'Backend' : undefined;
    const m = manifests.find((x) => x.manifest.kind === kind && x.manifest.metadata.name === section?.name);
    const entry = mapEntryOf(config, e.message);
    const base = { code: 'haproxy-refused' as const, message: `haproxy -c: ${withRule(e.message, entry)}` };
    if (m === undefined || e.line === undefined)
      return { ...base, path: '', ...(e.line !== undefined && { message: `${base.message} (config line ${e.line})` }) };
    const segments = culpritSegments(m, (lines[e.line - 1] ?? '').trim(), entry);
    return {
      ...base,
      file: m.source.file,
      document: m.source.document,
      line: segments.length === 0 ? (m.source.line ?? 1) : m.lineOf(segments),
      kind: m.manifest.kind,
      name: m.manifest.metadata.name,
      path: segments.length === 0 ? '' : `spec.${String(segments[1])}[${String(segments[2])}]`,
    };
  });
}

/** Where in the object the refused line came from: the natives entry that is that line, or the rule of a map entry. */
function culpritSegments(
  m: LocatedManifest,
  text: string,
  entry: { key: string; backend: string } | undefined,
): (string | number)[] {
  if (m.manifest.kind === 'Certificate') return [];
  const native = m.manifest.spec.natives.findIndex((n) => n.trim() === text);
  if (native !== -1) return ['spec', 'natives', native];
  if (m.manifest.kind !== 'Frontend' || entry === undefined) return [];
  const rule = m.manifest.spec.rules.findIndex((r) => r.value === entry.key && r.backend === entry.backend);
  return rule === -1 ? [] : ['spec', 'rules', rule];
}
