// Desired state → haproxy.cfg text through a mustache template. Pure: the
// caller supplies the template text. Values are not escaped: every string in
// the view was validated (or built) so that it cannot end a directive, and
// rule values, the one free-form field, are rendered single-quoted.
import Mustache from 'mustache';
import type { Keepalive } from '../manifests/model.js';
import { parseBind } from '../manifests/bind.js';
import path from 'node:path';
import type { DesiredBackend, DesiredFrontend, DesiredState } from './desired-state.js';
import { certificatePath, crtListPath } from '../tls/tls-files.js';
import type { Issue } from '../issues.js';
import { INSTANCE_MARK, markSection } from './instance-mark.js';
import { routeViews, type RouteView } from './route-maps.js';

/** What HAProxy version-dependent directives the target binary supports. */
export interface HaproxyFeatures {
  /** `option idle-close-on-response` (HAProxy 2.6+, some 2.4 builds). */
  idleCloseOnResponse: boolean;
}

export const MODERN_HAPROXY: HaproxyFeatures = { idleCloseOnResponse: true };

export interface RenderOptions {
  /** Path of the stats/runtime socket (level admin). */
  statsSocketPath: string;
  /** Address of an HTTP stats page, e.g. 127.0.0.1:1988; none unless set. */
  statsBind?: string;
  /** Address of HAProxy's Prometheus exporter (GET /metrics); none unless set. */
  metricsBind?: string;
  /** Where frontends log each request: stdout (default), off, or a syslog address. */
  accessLog?: string;
  /** Bound on how long old workers live after a reload, e.g. 5m. */
  hardStopAfter?: string;
  /** Old workers surviving more reloads than this are stopped. */
  mworkerMaxReloads?: number;
  maxconn?: number;
  features?: HaproxyFeatures;
  /** The writing instance's mark (instance-mark.ts), appended as the config's last section; none when unset. */
  instanceMark?: string;
  /** Where certificates and crt-lists live (<stateDir>/tls); default: tls beside the stats socket. */
  tlsDir?: string;
  /** Where the routing maps live (<haproxyCfgPath>.maps); default: maps beside the stats socket. */
  mapDir?: string;
  /** ACME's HTTP-01 map (token → key authorization), answered on every plain-HTTP frontend; none when unset. */
  acmeChallengeMap?: string;
}

export interface ServerView {
  name: string;
  address: string;
  host: string;
  port: number;
  interval: number;
  hasWeight: boolean;
  weight: number;
}

export interface BackendView {
  name: string;
  type: string;
  mode: string;
  isHttp: boolean;
  balance: string;
  hostHeader: string | null;
  httpCheck: { method: string; uri: string; version: string; hdrHost: string | null } | null;
  checkInterval: number;
  natives: string[];
  servers: ServerView[];
}

export interface FrontendView {
  name: string;
  mode: string;
  isHttp: boolean;
  binds: string[];
  options: string[];
  /** Every rule as an ACL, and its use_backend lines: the form of templates written before routes. */
  acls: { name: string; criterion: string; value: string; quotedValue: string }[];
  useBackends: { backend: string; acl: string }[];
  /** The same rules as use_backend lines in order, runs of them through maps (route-maps.ts). */
  routes: RouteView[];
  defaultBackend: string;
  natives: string[];
  /** TLS on every bind (already appended to each of binds), or null. */
  tls: TlsView | null;
  /** The http-request line answering ACME HTTP-01 challenges (plain-HTTP frontends, with ACME on), or null. */
  acmeChallenge: string | null;
  /** The http-request line redirecting to HTTPS, or null. */
  redirect: string | null;
  /** Strict-Transport-Security value, or null. */
  hsts: string | null;
}

export interface TlsView {
  crtList: string;
  minVersion: string;
  /** e.g. "h2,http/1.1"; null: none offered. */
  alpn: string | null;
  /** What follows the address on a bind line: "ssl crt-list … ssl-min-ver … alpn …". */
  bindOptions: string;
  certificates: { name: string; file: string }[];
}

/** The view a template receives; documented in docs/templates.md. */
export interface ConfigView {
  global: {
    statsSocketPath: string;
    maxconn: number;
    hardStopAfter: string | null;
    mworkerMaxReloads: number | null;
  };
  features: HaproxyFeatures;
  stats: { bind: string } | null;
  metrics: { bind: string } | null;
  /** `log` target of every frontend; null: no access log. */
  accessLog: { target: string } | null;
  frontends: FrontendView[];
  backends: BackendView[];
}

// One entry per value the schema allows: a new value there fails to compile here until it is rendered.
const KEEPALIVE_OPTIONS: Record<Keepalive, string[]> = {
  default: [],
  close: ['option httpclose'],
  'server-close': ['option http-server-close'],
};

/** stdout in raw format (one line per request, read by Aqueduct in managed mode), or a syslog address. */
function accessLogView(target: string): ConfigView['accessLog'] {
  if (target === 'off') return null;
  return { target: target === 'stdout' ? 'stdout format raw' : target };
}

const tlsDirOf = (options: RenderOptions): string =>
  options.tlsDir ?? path.join(path.dirname(options.statsSocketPath), 'tls');
const mapDirOf = (options: RenderOptions): string =>
  options.mapDir ?? path.join(path.dirname(options.statsSocketPath), 'maps');

function tlsView(f: DesiredFrontend, tlsDir: string): TlsView | null {
  if (f.tls === undefined) return null;
  const crtList = crtListPath(tlsDir, f.name, f.tls.certificates);
  const alpn = f.tls.alpn.length === 0 ? null : f.tls.alpn.join(',');
  return {
    crtList,
    minVersion: f.tls.minVersion,
    alpn,
    bindOptions: [`ssl crt-list ${crtList}`, `ssl-min-ver ${f.tls.minVersion}`, ...(alpn ? [`alpn ${alpn}`] : [])].join(
      ' ',
    ),
    certificates: f.tls.certificates.map((name) => ({ name, file: certificatePath(tlsDir, name) })),
  };
}

/** Same path and query on HTTPS, the Host header without its port (443 needs none in the URL). */
function redirectLine(port: number | undefined): string | null {
  if (port === undefined) return null;
  const where = port === 443 ? '' : `:${port}`;
  return `http-request redirect code 308 location https://%[req.hdr(host),regsub(:[0-9]+$,)]${where}%[capture.req.uri]`;
}

/** Answers /.well-known/acme-challenge/<token> from the map, before any other rule (a redirect included). */
function acmeChallengeLine(f: DesiredFrontend, map: string | undefined): string | null {
  if (map === undefined || f.mode !== 'http' || f.tls !== undefined) return null;
  const answer = `path,field(4,/),map(${map})`;
  return `http-request return status 200 content-type text/plain lf-string "%[${answer}]" if { path_beg /.well-known/acme-challenge/ } { ${answer} -m found }`;
}

export function frontendView(f: DesiredFrontend, options: RenderOptions): FrontendView {
  const tls = tlsView(f, tlsDirOf(options));
  return {
    name: f.name,
    mode: f.mode,
    isHttp: f.mode === 'http',
    binds: tls === null ? f.binds : f.binds.map((b) => `${b} ${tls.bindOptions}`),
    options: f.mode === 'http' ? KEEPALIVE_OPTIONS[f.keepalive] : [],
    acls: f.rules.map((r) => ({ name: r.acl, criterion: r.criterion, value: r.value, quotedValue: `'${r.value}'` })),
    useBackends: f.rules.map((r) => ({ backend: r.backend, acl: r.acl })),
    routes: routeViews(f.name, f.rules, mapDirOf(options)),
    defaultBackend: f.defaultBackend,
    natives: f.natives,
    tls,
    acmeChallenge: acmeChallengeLine(f, options.acmeChallengeMap),
    redirect: redirectLine(f.redirectToHttps),
    hsts: f.hsts ?? null,
  };
}

/** The view's parts that are not lists: the same for every frontend and backend of a render. */
export function rootView(options: RenderOptions): Omit<ConfigView, 'frontends' | 'backends'> {
  return {
    global: {
      statsSocketPath: options.statsSocketPath,
      maxconn: options.maxconn ?? 4096,
      hardStopAfter: options.hardStopAfter ?? null,
      mworkerMaxReloads: options.mworkerMaxReloads ?? null,
    },
    features: options.features ?? MODERN_HAPROXY,
    stats: options.statsBind === undefined ? null : { bind: options.statsBind },
    metrics: options.metricsBind === undefined ? null : { bind: options.metricsBind },
    accessLog: accessLogView(options.accessLog ?? 'stdout'),
  };
}

export function backendView(b: DesiredBackend): BackendView {
  return {
    name: b.name,
    type: b.type,
    mode: b.mode,
    isHttp: b.mode === 'http',
    balance: b.balance,
    hostHeader: b.mode === 'http' ? b.host : null,
    httpCheck:
      b.health === undefined
        ? null
        : { method: b.health.method, uri: b.health.uri, version: b.health.httpVersion, hdrHost: b.host },
    checkInterval: b.checkInterval,
    natives: b.natives,
    servers: b.servers.map((s) => ({
      name: s.name,
      address: s.address,
      host: s.host,
      port: s.port,
      interval: b.checkInterval,
      hasWeight: s.weight !== undefined,
      weight: s.weight ?? 1,
    })),
  };
}

export function buildView(state: DesiredState, options: RenderOptions): ConfigView {
  return {
    ...rootView(options),
    frontends: state.frontends.map((f) => frontendView(f, options)),
    backends: state.backends.map(backendView),
  };
}

// Rendered output is configuration, not HTML.
export const noEscape = (value: unknown): string => String(value);

/** Renders the config; throws if the template does not parse (see checkTemplate). */
export function renderConfig(template: string, state: DesiredState, options: RenderOptions): string {
  const text = Mustache.render(template, buildView(state, options), {}, { escape: noEscape });
  return options.instanceMark === undefined ? text : `${text}${markSection(options.instanceMark)}`;
}

/** Template problems as issues, so a bad custom template is reported, not thrown. */
export function checkTemplate(template: string, file: string): Issue[] {
  try {
    Mustache.parse(template);
    return [];
  } catch (err) {
    return [{ code: 'template', file, path: '', message: `template does not parse: ${(err as Error).message}` }];
  }
}

// Control characters are exactly what this must refuse.
// eslint-disable-next-line no-control-regex
const SAFE_PATH = /^[^\s'"#\\\u0000-\u001f\u007f]+$/;
const DURATION = /^[0-9]+(?:us|ms|s|m|h|d)?$/;
/** A syslog address as HAProxy's `log` takes it (it goes into the config, so nothing else may). */
export const ACCESS_LOG_ADDRESS = /^(?:udp@|udp4@|udp6@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$/;

/** Checks options that end up in the config, since they too must not inject syntax. */
export function checkRenderOptions(options: RenderOptions): Issue[] {
  const issues: Issue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ code: 'invalid-option', path, message });
  };
  if (!SAFE_PATH.test(options.statsSocketPath)) {
    bad('haproxySocketPath', 'must be a path without spaces, quotes, backslashes, # or control characters');
  }
  if (options.acmeChallengeMap !== undefined && !SAFE_PATH.test(options.acmeChallengeMap))
    bad(
      'stateDir',
      'its ACME challenge map must be a path without spaces, quotes, backslashes, # or control characters',
    );
  if (!SAFE_PATH.test(mapDirOf(options)))
    bad(
      'haproxyCfgPath',
      'its routing maps folder must be a path without spaces, quotes, backslashes, # or control characters',
    );
  if (!SAFE_PATH.test(tlsDirOf(options)))
    bad('stateDir', 'its tls folder must be a path without spaces, quotes, backslashes, # or control characters');
  for (const [flag, value, example] of [
    ['statsBind', options.statsBind, '127.0.0.1:1988'],
    ['haproxyMetricsBind', options.metricsBind, '127.0.0.1:8405'],
  ] as const) {
    if (value === undefined) continue;
    const parsed = /^(?:\*|[A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$/.test(value) ? parseBind(value) : undefined;
    if (parsed === undefined || parsed.badPort !== undefined) bad(flag, `must be one address:port, e.g. ${example}`);
  }
  if (options.hardStopAfter !== undefined && !DURATION.test(options.hardStopAfter)) {
    bad('hardStopAfter', 'must be an HAProxy duration such as 30s, 5m or 1h');
  }
  if (options.instanceMark !== undefined && !INSTANCE_MARK.test(options.instanceMark))
    bad('instanceMark', 'must be aqueduct-instance- and 16 hex digits');
  const log = options.accessLog;
  if (log !== undefined && log !== 'stdout' && log !== 'off' && !ACCESS_LOG_ADDRESS.test(log))
    bad('accessLog', 'must be stdout, off or a syslog address such as 127.0.0.1:514');
  for (const [path, value] of [
    ['mworkerMaxReloads', options.mworkerMaxReloads],
    ['maxconn', options.maxconn],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) bad(path, 'must be a positive integer');
  }
  return issues;
}
