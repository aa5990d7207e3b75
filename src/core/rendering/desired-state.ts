// The desired state: what HAProxy should serve, normalised and sorted so that
// equal inputs give equal values whatever the order of files, documents,
// rules or members. Rendering and planning both start from it.
import { parseBind } from '../manifests/bind.js';
import type {
  BackendManifest,
  FrontendManifest,
  FrontendTls,
  Health,
  Hsts,
  Keepalive,
  Member,
  MemberMap,
  Mode,
  Rule,
} from '../manifests/model.js';
import { aclName, serverAddress, serverName } from './names.js';

export interface DesiredRule {
  acl: string;
  /** HAProxy fetch and match, e.g. path_beg or hdr_dom(host). */
  criterion: string;
  value: string;
  backend: string;
  type: Rule['type'];
  operation: Rule['operation'];
}

export interface DesiredTls {
  /** Certificate names, the default first. */
  certificates: string[];
  minVersion: string;
  /** ALPN protocols in order; empty: none offered. */
  alpn: string[];
}

export interface DesiredFrontend {
  name: string;
  mode: Mode;
  keepalive: Keepalive;
  binds: string[];
  defaultBackend: string;
  rules: DesiredRule[];
  natives: string[];
  tls?: DesiredTls;
  /** Redirect every request to HTTPS on this port (443: the scheme's default, no port in the URL). */
  redirectToHttps?: number;
  /** Strict-Transport-Security header value. */
  hsts?: string;
}

export interface DesiredServer {
  name: string;
  host: string;
  port: number;
  /** host:port as HAProxy reads it ([v6]:port for IPv6). */
  address: string;
  weight?: number;
}

export interface DesiredBackend {
  name: string;
  type: 'dynamic' | 'static';
  mode: Mode;
  balance: string;
  host: string | null;
  /** HTTP check, only in http mode. */
  health?: Health;
  /** Milliseconds between checks of each server (health.interval, or 2000 as the original). */
  checkInterval: number;
  natives: string[];
  servers: DesiredServer[];
}

export interface DesiredState {
  frontends: DesiredFrontend[];
  backends: DesiredBackend[];
}

export const DEFAULT_CHECK_INTERVAL_MS = 2000;

const byName = <T extends { name: string }>(a: T, b: T): number => compareStrings(a.name, b.name);

/** Code-unit order: independent of locale, so the bytes are the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Rule precedence, since rules are evaluated in the order they are written
 * and that order must not depend on file layout: header rules first (a Host
 * rule selects a whole site), then exact matches, then prefixes longest
 * first, then regular expressions. Ties break on the content.
 */
const RULE_CLASS: Record<Rule['operation'], number> = {
  hdr_dom: 0,
  path: 1,
  url: 1,
  path_beg: 2,
  url_beg: 2,
  path_reg: 3,
  url_reg: 3,
};

export function compareRules(a: DesiredRule, b: DesiredRule): number {
  return (
    RULE_CLASS[a.operation] - RULE_CLASS[b.operation] ||
    (RULE_CLASS[a.operation] === 2 ? b.value.length - a.value.length : 0) ||
    compareStrings(a.criterion, b.criterion) ||
    compareStrings(a.value, b.value) ||
    compareStrings(a.backend, b.backend)
  );
}

/** HAProxy's fetch for each rule type the schema allows (a new type fails to compile until it is here). */
const CRITERION: Record<Rule['type'], (rule: Rule) => string> = {
  path: (rule) => rule.operation,
  url: (rule) => rule.operation,
  header: (rule) => `${rule.operation}(${rule.header?.toLowerCase() ?? 'host'})`,
};

function desiredRule(rule: Rule): DesiredRule {
  return {
    acl: aclName(rule),
    criterion: CRITERION[rule.type](rule),
    value: rule.value,
    backend: rule.backend,
    type: rule.type,
    operation: rule.operation,
  };
}

/** The default certificate first, the rest in the order listed. */
function desiredTls(tls: FrontendTls, mode: Mode): DesiredTls {
  const first = tls.defaultCertificate ?? tls.certificates[0] ?? '';
  return {
    certificates: [first, ...tls.certificates.filter((c) => c !== first)],
    minVersion: tls.minVersion,
    alpn: [...(tls.alpn ?? (mode === 'http' ? ['h2', 'http/1.1'] : []))],
  };
}

const hstsValue = (h: Hsts): string =>
  [
    `max-age=${h.maxAge}`,
    ...(h.includeSubDomains ? ['includeSubDomains'] : []),
    ...(h.preload ? ['preload'] : []),
  ].join('; ');

/** The TLS-related parts of a frontend, present only when declared. */
function frontendTls(spec: FrontendManifest['spec']): Pick<DesiredFrontend, 'tls' | 'redirectToHttps' | 'hsts'> {
  return {
    ...(spec.tls !== undefined && { tls: desiredTls(spec.tls, spec.mode) }),
    ...(spec.redirectToHttps !== undefined && {
      redirectToHttps: spec.redirectToHttps === true ? 443 : spec.redirectToHttps,
    }),
    ...(spec.hsts !== undefined && { hsts: hstsValue(spec.hsts) }),
  };
}

function desiredFrontend(f: FrontendManifest): DesiredFrontend {
  const rules = new Map<string, DesiredRule>();
  for (const r of f.spec.rules) {
    const d = desiredRule(r);
    rules.set(`${d.acl}\0${d.backend}`, d); // an exact repeat of a rule adds nothing
  }
  const binds = [...new Set(parseBind(f.spec.bind).addresses.map((a) => a.text))].sort(compareStrings);
  return {
    name: f.metadata.name,
    mode: f.spec.mode,
    keepalive: f.spec.keepalive,
    binds,
    defaultBackend: f.spec.backend,
    rules: [...rules.values()].sort(compareRules),
    natives: [...f.spec.natives],
    ...frontendTls(f.spec),
  };
}

function compareServers(a: DesiredServer, b: DesiredServer): number {
  return compareStrings(a.host, b.host) || a.port - b.port;
}

/** Servers of a backend from member records: deduplicated by host:port, sorted. */
export function desiredServers(backend: string, members: readonly Member[]): DesiredServer[] {
  const servers = new Map<string, DesiredServer>();
  for (const m of members) {
    const host = m.host.toLowerCase();
    const server: DesiredServer = {
      name: serverName(backend, host, m.port),
      host,
      port: m.port,
      address: serverAddress(host, m.port),
      ...(m.weight === undefined ? {} : { weight: m.weight }),
    };
    const prev = servers.get(server.name);
    // Duplicates can only come from a registry listing one instance twice; keep the larger weight so the result does not depend on order.
    if (prev === undefined || (server.weight ?? 1) > (prev.weight ?? 1)) servers.set(server.name, server);
  }
  return [...servers.values()].sort(compareServers);
}

/** The members a backend's servers come from: its own (static), or its sources' (dynamic). */
function membersOf(b: BackendManifest, members: MemberMap): readonly Member[] {
  const name = b.metadata.name;
  // hasOwn: a backend may be called 'constructor' and must not find Object.prototype's.
  return b.spec.type === 'static' ? b.spec.members : Object.hasOwn(members, name) ? (members[name] ?? []) : [];
}

function desiredBackend(b: BackendManifest, source: readonly Member[]): DesiredBackend {
  const name = b.metadata.name;
  const spec = b.spec;
  return {
    name,
    type: spec.type,
    mode: spec.mode,
    balance: spec.balance,
    host: spec.host,
    ...(spec.health !== undefined && spec.mode === 'http' ? { health: { ...spec.health } } : {}),
    checkInterval: spec.health?.interval ?? DEFAULT_CHECK_INTERVAL_MS,
    natives: [...spec.natives],
    servers: desiredServers(name, source),
  };
}

/** Desired state from valid manifests and the members of dynamic backends (keyed by backend name). */
export function buildDesiredState(
  frontends: readonly FrontendManifest[],
  backends: readonly BackendManifest[],
  members: MemberMap,
): DesiredState {
  return {
    frontends: frontends.map(desiredFrontend).sort(byName),
    backends: backends.map((b) => desiredBackend(b, membersOf(b, members))).sort(byName),
  };
}

/** Whether two member lists give the same servers: the fields desiredServers reads, in the same order. */
const sameMembers = (a: readonly Member[], b: readonly Member[]): boolean =>
  a === b ||
  (a.length === b.length &&
    a.every((m, i) => {
      const n = b[i] as Member;
      return m.host === n.host && m.port === n.port && m.weight === n.weight;
    }));

/**
 * buildDesiredState that hands back the same desired object for a manifest
 * object seen before with the same members: parsed manifests are kept while
 * their file's text is unchanged (ParseCache), so an unchanged object keeps
 * its identity from run to run, and what is built from it (its rendered
 * text: incremental-render.ts) can be kept by identity too. The memory is the
 * caller's, one per builder; manifests and desired objects are never changed
 * in place.
 */
export function desiredStateBuilder(): typeof buildDesiredState {
  const frontends = new WeakMap<FrontendManifest, DesiredFrontend>();
  const backends = new WeakMap<BackendManifest, { source: readonly Member[]; backend: DesiredBackend }>();
  const frontend = (f: FrontendManifest): DesiredFrontend => {
    let d = frontends.get(f);
    if (d === undefined) frontends.set(f, (d = desiredFrontend(f)));
    return d;
  };
  const backend = (b: BackendManifest, members: MemberMap): DesiredBackend => {
    const source = membersOf(b, members);
    const known = backends.get(b);
    if (known !== undefined && sameMembers(known.source, source)) return known.backend;
    const d = desiredBackend(b, source);
    backends.set(b, { source, backend: d });
    return d;
  };
  return (fs, bs, members) => ({
    frontends: fs.map(frontend).sort(byName),
    backends: bs.map((b) => backend(b, members)).sort(byName),
  });
}
