// The resolved configuration of `aqueduct run`: flags, environment and
// defaults from options.ts, checked and given their final types.
import { ACCESS_LOG_ADDRESS } from './core/render.js';
import { defaultLogFormat } from './log.js';
import path from 'node:path';
import { AqueductError } from './core/issues.js';
import type { HaproxyMode } from './haproxy/process.js';
import { envName, RUN_OPTIONS } from './options.js';

export interface RunConfig {
  host: string;
  port: number;
  label?: string;
  apiToken?: string;
  apiReadToken?: string;
  readOnly: boolean;
  insecureOpenWrites: boolean;
  allowUnsafeNatives: boolean;
  apiAllowedOrigins: string[];
  apiAllowedHosts: string[];
  apiBodyLimit: number;
  applyWaitTimeout: number;
  statsInterval: number;
  thalassaHost: string;
  thalassaPort: number;
  thalassaApiPort: number;
  registry: 'thalassa' | 'socketio' | 'none';
  registryPollInterval: number;
  registryGrace: number;
  noSelfRegistration: boolean;
  haproxySocketPath: string;
  haproxyPidPath: string;
  haproxyCfgPath: string;
  templateFile?: string;
  persistence?: string;
  sudo: boolean;
  debug: boolean;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  accessLog: string;
  manifests: string;
  /** False when --manifests was left at its default: the directory may then be created. */
  manifestsExplicit: boolean;
  haproxyMode: HaproxyMode;
  haproxyMasterSocket: string;
  haproxyBin: string;
  stateDir: string;
  keepGenerations: number;
  resyncInterval: number;
  minReloadInterval: number;
  reloadBurst: number;
  drainTimeout: number;
  healthGateTimeout: number;
  stopTimeout: number;
  hardStopAfter: string;
  mworkerMaxReloads: number;
  statsBind?: string;
  haproxyMetricsBind?: string;
}

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

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** stdout, off, or a syslog address: it goes into the config, so nothing else may. */
function checkAccessLog(value: string): string {
  if (value === 'stdout' || value === 'off') return value;
  if (ACCESS_LOG_ADDRESS.test(value)) return value;
  throw new AqueductError(
    'config',
    `--accessLog ${JSON.stringify(value)}: expected stdout, off or a syslog address such as 127.0.0.1:514`,
  );
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
  const str = (flag: string): string | undefined => (typeof v[flag] === 'string' ? (v[flag] as string) : undefined);
  const num = (flag: string): number => v[flag] as number;
  checkMasterSocket(str('haproxyMasterSocket'));
  const cfgPath = path.resolve(str('haproxyCfgPath') as string);
  const masterExplicit = sourceOf('haproxyMasterSocket') === 'cli' || sourceOf('haproxyMasterSocket') === 'env';
  const modeExplicit = sourceOf('haproxyMode') === 'cli' || sourceOf('haproxyMode') === 'env';
  const mode = (modeExplicit ? str('haproxyMode') : masterExplicit ? 'external' : 'managed') as HaproxyMode;
  const optional = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } =>
    (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
  return {
    host: str('host') as string,
    port: num('port'),
    ...optional('label', str('label')),
    ...optional('apiToken', str('apiToken')),
    ...optional('apiReadToken', str('apiReadToken')),
    readOnly: v['readOnly'] === true,
    insecureOpenWrites: v['insecureOpenWrites'] === true,
    allowUnsafeNatives: v['allowUnsafeNatives'] === true,
    apiAllowedOrigins: list(str('apiAllowedOrigins')),
    apiAllowedHosts: list(str('apiAllowedHosts')),
    apiBodyLimit: num('apiBodyLimit'),
    applyWaitTimeout: num('applyWaitTimeout'),
    statsInterval: Math.max(num('statsInterval'), 100),
    thalassaHost: str('thalassaHost') as string,
    thalassaPort: num('thalassaPort'),
    thalassaApiPort: num('thalassaApiPort'),
    registry: str('registry') as RunConfig['registry'],
    registryPollInterval: Math.max(num('registryPollInterval'), 100),
    registryGrace: num('registryGrace'),
    noSelfRegistration: v['noSelfRegistration'] === true,
    haproxySocketPath: path.resolve(str('haproxySocketPath') as string),
    haproxyPidPath: path.resolve(str('haproxyPidPath') as string),
    haproxyCfgPath: cfgPath,
    ...optional('templateFile', str('templateFile')),
    ...optional('persistence', str('persistence')),
    sudo: v['sudo'] === true,
    debug: v['debug'] === true,
    logLevel: v['debug'] === true && sourceOf('logLevel') === 'default' ? 'debug' : (str('logLevel') as LogLevel),
    logFormat: (str('logFormat') ?? defaultLogFormat()) as RunConfig['logFormat'],
    accessLog: checkAccessLog(str('accessLog') as string),
    manifests: path.resolve(str('manifests') as string),
    manifestsExplicit: sourceOf('manifests') === 'cli' || sourceOf('manifests') === 'env',
    haproxyMode: mode,
    haproxyMasterSocket: path.resolve(str('haproxyMasterSocket') as string),
    haproxyBin: str('haproxyBin') as string,
    stateDir: path.resolve(str('stateDir') ?? path.join(path.dirname(cfgPath), 'aqueduct-state')),
    keepGenerations: num('keepGenerations'),
    resyncInterval: num('resyncInterval'),
    minReloadInterval: num('minReloadInterval'),
    reloadBurst: Math.max(1, num('reloadBurst')),
    drainTimeout: num('drainTimeout'),
    healthGateTimeout: num('healthGateTimeout'),
    stopTimeout: num('stopTimeout'),
    hardStopAfter: str('hardStopAfter') as string,
    mworkerMaxReloads: num('mworkerMaxReloads'),
    ...optional('statsBind', str('statsBind')),
    ...optional('haproxyMetricsBind', str('haproxyMetricsBind')),
  };
}
