// The resolved configuration of `aqueduct run`: flags, environment and
// defaults from options.ts, checked and given their final types.
import { ACCESS_LOG_ADDRESS, type HaproxyFeatures, type RenderOptions } from './core/rendering/render.js';
import { instanceMark } from './core/rendering/instance-mark.js';
import { defaultLogFormat } from './log.js';
import { isIP } from 'node:net';
import path from 'node:path';
import { routeMapDir } from './core/rendering/route-maps.js';
import { AqueductError } from './core/issues.js';
import { envName, isOptionValues, mistypedOptions, RUN_OPTIONS, type OptionValues } from './options.js';

/** Options whose final value has another type, or needs a fallback, than the table's. */
type Derived =
  | 'apiAllowedOrigins'
  | 'apiAllowedHosts'
  | 'haproxyEnv'
  | 'logFormat'
  | 'stateDir'
  | 'haproxySocketPath'
  | 'haproxyPidPath'
  | 'haproxyMasterSocket';

/** The options as the table types them, and what resolving makes of the rest. */
export type RunConfig = Omit<OptionValues, Derived> & {
  apiAllowedOrigins: string[];
  apiAllowedHosts: string[];
  /** Names of the environment variables passed on to HAProxy. */
  haproxyEnv: string[];
  logFormat: NonNullable<OptionValues['logFormat']>;
  stateDir: string;
  /** The paths the instance owns: given, or derived from its state directory (see instancePaths). */
  haproxySocketPath: string;
  haproxyPidPath: string;
  haproxyMasterSocket: string;
  /** False when --manifests was left at its default: the directory may then be created. */
  manifestsExplicit: boolean;
};

/** A comma-separated option as its items, blanks dropped. */
const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export type ValueSource = 'cli' | 'env' | 'default' | undefined;

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off|)$/i;

/** Reads a boolean environment variable, refusing values that are neither true nor false. */
export function envBoolean(env: NodeJS.ProcessEnv, flag: string): boolean | undefined {
  const name = envName(flag);
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (TRUE.test(raw)) return true;
  if (FALSE.test(raw)) return false;
  throw new AqueductError('config', `${name}=${raw}: expected true or false`);
}

/** Parses an integer option value, naming the option in the error. */
export function parseInteger(flag: string, raw: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new AqueductError('config', `--${flag} ${raw}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

// Control characters are exactly what this must refuse.
// eslint-disable-next-line no-control-regex
const MASTER_SOCKET_UNSAFE = /[,\u0000-\u001f\u007f]/;

/**
 * HAProxy reads `-S <path>,mode,600` as a list: a comma in the master socket
 * path would add options of the caller's choosing. (The stats socket path,
 * which goes into the config, is checked with the other render options.)
 */
function checkMasterSocket(value: string | undefined): void {
  if (value === undefined || !MASTER_SOCKET_UNSAFE.test(value)) return;
  throw new AqueductError(
    'config',
    `--haproxyMasterSocket ${JSON.stringify(value)}: the path may not hold commas or control characters (HAProxy reads '-S <path>,<options>' as a list)`,
  );
}

/** A unix socket's path must fit sockaddr_un's 108 bytes, its final NUL included. */
const UNIX_PATH_MAX = 107;

/**
 * The state directory and the sockets and pid file of one instance. Their
 * defaults derive from the config path, so two instances on one host, each
 * with its own --haproxyCfgPath, never share a master socket (and drive one
 * HAProxy) or a state directory; the original's fixed /tmp paths did.
 */
export function instancePaths(
  cfgPath: string,
  given: { stateDir?: string; haproxySocketPath?: string; haproxyPidPath?: string; haproxyMasterSocket?: string },
): Pick<RunConfig, 'stateDir' | 'haproxySocketPath' | 'haproxyPidPath' | 'haproxyMasterSocket'> {
  const base = path.basename(cfgPath);
  const stateName = base === 'haproxy.cfg' ? 'aqueduct-state' : `${base.replace(/\.cfg$/, '')}.aqueduct-state`;
  const stateDir = path.resolve(given.stateDir ?? path.join(path.dirname(cfgPath), stateName));
  const socket = (flag: string, value: string | undefined, name: string): string => {
    const p = path.resolve(value ?? path.join(stateDir, name));
    if (Buffer.byteLength(p) > UNIX_PATH_MAX)
      throw new AqueductError(
        'config',
        `--${flag} ${p}: a unix socket path may be at most ${UNIX_PATH_MAX} bytes${value === undefined ? ` (it derives from --stateDir; give --${flag} or a shorter --stateDir)` : ''}`,
      );
    return p;
  };
  return {
    stateDir,
    haproxySocketPath: socket('haproxySocketPath', given.haproxySocketPath, 'haproxy.stats.sock'),
    haproxyMasterSocket: socket('haproxyMasterSocket', given.haproxyMasterSocket, 'haproxy.master.sock'),
    haproxyPidPath: path.resolve(given.haproxyPidPath ?? path.join(stateDir, 'haproxy.pid')),
  };
}

export type LogLevel = OptionValues['logLevel'];

/** --dnsServer is an address, with a port or not: Node's resolver takes no host name there. */
function checkDnsServer(value: string | undefined): void {
  if (value === undefined) return;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value) ?? [value, value];
  const [, address = '', port] = m;
  const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  if (isIP(address) === 0 || !portOk)
    throw new AqueductError(
      'config',
      `--dnsServer ${JSON.stringify(value)}: expected an IP address, optionally with a port (127.0.0.1:8600, [::1]:53)`,
    );
}

/** stdout, off, or a syslog address: it goes into the config, so nothing else may. */
function checkAccessLog(value: string): string {
  if (value === 'stdout' || value === 'off') return value;
  if (ACCESS_LOG_ADDRESS.test(value)) return value;
  throw new AqueductError(
    'config',
    `--accessLog ${JSON.stringify(value)}: expected stdout, off or a syslog address such as 127.0.0.1:514`,
  );
}

/**
 * The HAProxy mode a command line means. Given a master socket but no mode,
 * HAProxy runs elsewhere; given the original's --haproxyPidPath or --sudo,
 * it is the original's daemon (pidfile), as thalassa-aqueduct ran it. A
 * pidfile flag with another mode would be silently ignored: refused instead.
 */
function haproxyModeOf(v: OptionValues, explicit: (flag: string) => boolean): OptionValues['haproxyMode'] {
  const pidfileFlags = [explicit('haproxyPidPath') && '--haproxyPidPath', v.sudo && '--sudo'].filter(
    (f): f is string => typeof f === 'string',
  );
  const named = explicit('haproxyMode');
  const mode = named
    ? v.haproxyMode
    : explicit('haproxyMasterSocket')
      ? 'external'
      : pidfileFlags.length > 0
        ? 'pidfile'
        : 'managed';
  if (mode !== 'pidfile' && pidfileFlags.length > 0) {
    const flags = pidfileFlags.join(' and ');
    const why = named ? '' : ' (--haproxyMasterSocket means external)';
    throw new AqueductError(
      'config',
      `${flags} ${pidfileFlags.length === 1 ? 'applies' : 'apply'} only to --haproxyMode pidfile (the original's daemon), not ${mode}${why}: add --haproxyMode pidfile, or drop ${flags}`,
    );
  }
  return mode;
}

export function resolveRunConfig(
  values: Record<string, unknown>,
  sourceOf: (flag: string) => ValueSource,
  env: NodeJS.ProcessEnv,
): RunConfig {
  const v = { ...values };
  for (const spec of RUN_OPTIONS) {
    if (spec.type !== 'boolean') continue;
    if (sourceOf(spec.flag) !== 'cli') v[spec.flag] = envBoolean(env, spec.flag) ?? spec.default;
  }
  if (!isOptionValues(v))
    throw new AqueductError('config', `options of the wrong type: ${mistypedOptions(v).join(', ')}`);
  checkMasterSocket(v.haproxyMasterSocket);
  checkDnsServer(v.dnsServer);
  const explicit = (flag: string) => sourceOf(flag) === 'cli' || sourceOf(flag) === 'env';
  const {
    apiAllowedOrigins,
    apiAllowedHosts,
    haproxyEnv,
    logFormat,
    stateDir,
    haproxySocketPath,
    haproxyPidPath,
    haproxyMasterSocket,
    ...rest
  } = v;
  const cfgPath = path.resolve(v.haproxyCfgPath);
  return {
    ...rest,
    apiAllowedOrigins: list(apiAllowedOrigins),
    apiAllowedHosts: list(apiAllowedHosts),
    haproxyEnv: list(haproxyEnv),
    statsInterval: Math.max(v.statsInterval, 100),
    registryPollInterval: Math.max(v.registryPollInterval, 100),
    ...instancePaths(cfgPath, {
      ...(stateDir !== undefined && { stateDir }),
      ...(haproxySocketPath !== undefined && { haproxySocketPath }),
      ...(haproxyPidPath !== undefined && { haproxyPidPath }),
      ...(haproxyMasterSocket !== undefined && { haproxyMasterSocket }),
    }),
    haproxyCfgPath: cfgPath,
    logLevel: v.debug && sourceOf('logLevel') === 'default' ? 'debug' : v.logLevel,
    logFormat: logFormat ?? defaultLogFormat(),
    accessLog: checkAccessLog(v.accessLog),
    manifests: path.resolve(v.manifests),
    manifestsExplicit: explicit('manifests'),
    haproxyMode: haproxyModeOf(v, explicit),
    reloadBurst: Math.max(1, v.reloadBurst),
  };
}

/** The options that shape the config HAProxy loads: `aqueduct run`'s, which render and diff take too. */
export const RENDER_SHAPING_FLAGS = [
  'haproxyCfgPath',
  'stateDir',
  'haproxySocketPath',
  'hardStopAfter',
  'mworkerMaxReloads',
  'statsBind',
  'haproxyMetricsBind',
  'accessLog',
  'acmeDirectory',
] as const;

export type RenderShaping = Pick<RunConfig, (typeof RENDER_SHAPING_FLAGS)[number]>;

/** <stateDir>/tls/acme-challenges.map: the HTTP-01 map HAProxy loads, when ACME is on. */
const acmeMapPath = (tlsDir: string): string => path.join(tlsDir, 'acme-challenges.map');

/**
 * How the options render: one function for `aqueduct run` (preflight) and
 * for render and diff, so that a config rendered offline with run's flags is
 * byte for byte the one run writes (its global section and instance mark too).
 */
export function renderOptionsOf(
  c: RenderShaping,
  features?: HaproxyFeatures,
): RenderOptions & { instanceMark: string; tlsDir: string } {
  const tlsDir = path.join(c.stateDir, 'tls');
  return {
    statsSocketPath: c.haproxySocketPath,
    hardStopAfter: c.hardStopAfter,
    mworkerMaxReloads: c.mworkerMaxReloads,
    ...(features !== undefined && { features }),
    ...(c.statsBind !== undefined && { statsBind: c.statsBind }),
    ...(c.haproxyMetricsBind !== undefined && { metricsBind: c.haproxyMetricsBind }),
    accessLog: checkAccessLog(c.accessLog),
    instanceMark: instanceMark(c.haproxyCfgPath),
    tlsDir,
    mapDir: routeMapDir(c.haproxyCfgPath),
    ...(c.acmeDirectory !== undefined && { acmeChallengeMap: acmeMapPath(tlsDir) }),
  };
}

/** RenderShaping's flags as commander gives them (render, diff): the paths run derives may be absent. */
export type RenderShapingFlags = Omit<RenderShaping, 'stateDir' | 'haproxySocketPath'> &
  Partial<Pick<RenderShaping, 'stateDir' | 'haproxySocketPath'>>;

export function resolveRenderShaping(f: RenderShapingFlags): RenderShaping {
  const { stateDir, haproxySocketPath, ...rest } = f;
  const cfgPath = path.resolve(f.haproxyCfgPath);
  const paths = instancePaths(cfgPath, {
    ...(stateDir !== undefined && { stateDir }),
    ...(haproxySocketPath !== undefined && { haproxySocketPath }),
  });
  return { ...rest, haproxyCfgPath: cfgPath, stateDir: paths.stateDir, haproxySocketPath: paths.haproxySocketPath };
}
