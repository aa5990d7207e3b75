// Planning: how to go from the config HAProxy serves to the candidate.
//   noop     the bytes are equal: nothing to write, nothing to reload;
//   runtime  only servers (or their weights) changed, in backends whose
//            balance algorithm allows it, or the entries of routing maps
//            (route-maps.ts): runtime API commands, plus the new file
//            written without a reload;
//   reload   anything else.
import {
  parseSection,
  serverArg,
  serverParts,
  splitSections,
  supportsRuntimeServers,
  type Section,
  type SectionText,
  type ServerLine,
} from '../rendering/config-sections.js';
import type { DesiredState } from '../rendering/desired-state.js';
import { mapName } from '../rendering/route-maps.js';

export type ServerOp =
  | { op: 'add'; backend: string; server: string; address: string; args: string[] }
  | { op: 'remove'; backend: string; server: string }
  | { op: 'set-weight'; backend: string; server: string; weight: number }
  /** Clears a maintenance or drain state set by someone else (drift repair). */
  | { op: 'ready'; backend: string; server: string };

/** Replaces a routing map's entries, all at once (HAProxy's prepare/commit map). */
export interface MapOp {
  op: 'set-map';
  file: string;
  entries: [string, string][];
}

export type RuntimeOp = ServerOp | MapOp;

export type Plan =
  | { kind: 'noop'; reasons: string[] }
  | { kind: 'runtime'; ops: RuntimeOp[]; reasons: string[] }
  | { kind: 'reload'; reasons: string[] };

const withoutWeight = (s: ServerLine): string => {
  const { address, args } = serverParts(s);
  const i = args.indexOf('weight');
  if (i !== -1) args.splice(i, 2);
  return `${address} ${args.join(' ')}`;
};

function serverOps(before: Section, after: Section, reasons: string[]): ServerOp[] | undefined {
  const ops: ServerOp[] = [];
  const backend = after.name;
  for (const [name, old] of before.servers) {
    const next = after.servers.get(name);
    if (next === undefined) {
      ops.push({ op: 'remove', backend, server: name });
    } else if (old.text === next.text) {
      continue; // the common case: compared as strings, never tokenised
    } else if (withoutWeight(old) !== withoutWeight(next)) {
      reasons.push(`${after.header}: server ${name} changed options`);
      return undefined;
    } else {
      const w0 = serverArg(old, 'weight') ?? '1';
      const w1 = serverArg(next, 'weight') ?? '1';
      if (w0 !== w1) ops.push({ op: 'set-weight', backend, server: name, weight: Number(w1) });
    }
  }
  for (const [name, next] of after.servers) {
    if (!before.servers.has(name)) ops.push({ op: 'add', backend, server: name, ...serverParts(next) });
  }
  if (ops.length > 0 && !supportsRuntimeServers(after)) {
    reasons.push(`${after.header}: its balance algorithm cannot change servers at runtime`);
    return undefined;
  }
  return ops;
}

/** Whether two maps hold the same entries in the same order. */
export const sameEntries = (a: readonly [string, string][] | undefined, b: readonly [string, string][]): boolean =>
  a !== undefined && a.length === b.length && a.every(([k, v], i) => k === b[i]?.[0] && v === b[i]?.[1]);

/** The maps whose entries changed; the use_backend lines that read them are unchanged (the caller compared them). */
function mapOps(before: Section, after: Section): MapOp[] {
  const ops: MapOp[] = [];
  for (const [file, entries] of after.routeMaps)
    if (!sameEntries(before.routeMaps.get(file), entries)) ops.push({ op: 'set-map', file, entries });
  return ops;
}

/** Splits config text into sections; a planner passes one that remembers (see `planner`). */
type Splitter = (text: string) => SectionText[];

/**
 * planChanges with the applied side's split kept between calls: it is the
 * same text for many candidates in a row. The memory is the caller's, one
 * per planner, not the module's.
 */
export function planner(): (applied: string | undefined, candidate: string) => Plan {
  let last: { text: string; sections: SectionText[] } | undefined;
  const split: Splitter = (text) => {
    if (last?.text !== text) last = { text, sections: splitSections(text) };
    return last.sections;
  };
  return (applied, candidate) => planChanges(applied, candidate, split);
}

/** Compares the applied config (undefined when none) with the candidate. */
export function planChanges(
  applied: string | undefined,
  candidate: string,
  splitApplied: Splitter = splitSections,
): Plan {
  if (applied === undefined) return { kind: 'reload', reasons: ['no config applied yet'] };
  if (applied === candidate) return { kind: 'noop', reasons: ['config unchanged'] };
  const before = splitApplied(applied);
  const after = splitSections(candidate);
  const reasons: string[] = [];
  const beforeHeaders = before.map((s) => s.header);
  const afterHeaders = after.map((s) => s.header);
  if (beforeHeaders.join('\n') !== afterHeaders.join('\n')) {
    const added = afterHeaders.filter((h) => !beforeHeaders.includes(h));
    const removed = beforeHeaders.filter((h) => !afterHeaders.includes(h));
    for (const h of added) reasons.push(`added ${h}`);
    for (const h of removed) reasons.push(`removed ${h}`);
    if (added.length === 0 && removed.length === 0) reasons.push('sections reordered');
    return { kind: 'reload', reasons };
  }
  const ops: RuntimeOp[] = [];
  let structural = false;
  before.forEach((bt, i) => {
    const at = after[i] as SectionText;
    if (bt.body === at.body) return; // the common case: an unchanged section, compared as one string
    const b = parseSection(bt);
    const a = parseSection(at);
    if (b.lines.join('\n') !== a.lines.join('\n')) {
      reasons.push(`${a.header || 'top of file'} changed`);
      structural = true;
      return;
    }
    const serverChanges = serverOps(b, a, reasons);
    if (serverChanges === undefined) structural = true;
    else ops.push(...serverChanges, ...mapOps(b, a));
  });
  if (structural) return { kind: 'reload', reasons };
  ops.splice(0, ops.length, ...makeBeforeBreak(ops));
  return { kind: 'runtime', ops, reasons: runtimeReasons(ops) };
}

/** "servers: 2 add, 1 remove" and "routing maps: web.1.map" for the ledger. */
function runtimeReasons(ops: readonly RuntimeOp[]): string[] {
  const counts = { add: 0, remove: 0, 'set-weight': 0, ready: 0 };
  const maps: string[] = [];
  for (const op of ops) {
    if (op.op === 'set-map') maps.push(mapName(op.file));
    else counts[op.op]++;
  }
  const summary = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  const reasons = [
    ...(summary.length > 0 ? [`servers: ${summary.join(', ')}`] : []),
    ...(maps.length > 0 ? [`routing maps: ${maps.join(', ')}`] : []),
  ];
  return reasons.length > 0 ? reasons : ['comments only'];
}

/**
 * Whether `haproxy -c` can tell a writer anything about a candidate that the
 * serving config (which it accepted) did not: not when the plan is runtime,
 * since servers and map entries are generated from validated values, except
 * entries of a regular-expression map, which HAProxy compiles (and may refuse).
 */
export function needsCheck(plan: Plan, candidate: string): boolean {
  if (plan.kind !== 'runtime') return true;
  return plan.ops.some((op) => op.op === 'set-map' && candidate.includes(`map_reg(${op.file})`));
}

/** Routing moves after new servers are up and weights raised, and before old servers drain. */
const PHASE: Record<RuntimeOp['op'], number> = { add: 0, ready: 1, 'set-weight': 2, 'set-map': 3, remove: 4 };

/**
 * The order that never leaves a backend without a server able to take a
 * request: new servers are added and enabled first, weights raised before
 * they are lowered, and only then are old servers drained. Stable otherwise.
 */
export function makeBeforeBreak(ops: readonly RuntimeOp[]): RuntimeOp[] {
  const rank = (op: RuntimeOp): number => PHASE[op.op] * 2 + (op.op === 'set-weight' && op.weight === 0 ? 1 : 0);
  return ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => rank(a.op) - rank(b.op) || a.i - b.i)
    .map((x) => x.op);
}

/**
 * The applied structure with the desired servers: what can be served through
 * the runtime API right away while a structural change waits for the reload
 * budget. Backends that are new or gone keep their applied form.
 */
export function withDesiredServers(applied: DesiredState, desired: DesiredState): DesiredState {
  const servers = new Map(desired.backends.map((b) => [b.name, b.servers]));
  return {
    frontends: applied.frontends,
    backends: applied.backends.map((b) => ({ ...b, servers: servers.get(b.name) ?? b.servers })),
  };
}
