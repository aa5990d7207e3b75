// Every option of `aqueduct run`, in one table: the CLI flags, their
// AQUEDUCT_* environment variables and the docs all come from here.
// The original Thalassa Aqueduct's flags keep their names and defaults.

export type OptionType = 'string' | 'integer' | 'boolean';

export interface OptionSpec {
  flag: string;
  type: OptionType;
  description: string;
  default?: string | number | boolean;
  /** Allowed values, for enumerations. */
  choices?: readonly string[];
  /** From the original Thalassa Aqueduct. */
  original?: boolean;
  /** Which part uses it. */
  group: 'api' | 'registry' | 'haproxy' | 'manifests' | 'loop' | 'tls' | 'general';
}

export const RUN_OPTIONS = [
  {
    flag: 'host',
    type: 'string',
    default: '0.0.0.0',
    description: 'host the REST API binds to',
    original: true,
    group: 'api',
  },
  {
    flag: 'port',
    type: 'integer',
    default: 10000,
    description: 'port the REST API binds to',
    original: true,
    group: 'api',
  },
  {
    flag: 'apiToken',
    type: 'string',
    description:
      'bearer token every API write must carry (Authorization: Bearer <token>); prefer the environment variable, a flag shows in ps',
    group: 'api',
  },
  {
    flag: 'apiReadToken',
    type: 'string',
    description:
      'bearer token API reads must carry (the write token works too); reads are open when unset. Without --apiToken, writes need it too',
    group: 'api',
  },
  {
    flag: 'insecureOpenWrites',
    type: 'boolean',
    default: false,
    description:
      'INSECURE: accept API writes without a token from any peer; by default, without --apiToken only loopback peers may write',
    group: 'api',
  },
  {
    flag: 'allowUnsafeNatives',
    type: 'boolean',
    default: false,
    description:
      'UNSAFE: let natives open sections (global, defaults, frontend, ...) and use directives that run programs or load code (external-check, insecure-fork-wanted, lua-load, ...)',
    group: 'manifests',
  },
  {
    flag: 'apiAllowedOrigins',
    type: 'string',
    description:
      "comma-separated browser origins (scheme://host[:port]) allowed to write and open /stream besides the API's own; others are refused (CSRF)",
    group: 'api',
  },
  {
    flag: 'apiAllowedHosts',
    type: 'string',
    description:
      'comma-separated Host names loopback peers may use besides localhost and loopback addresses (refuses DNS rebinding)',
    group: 'api',
  },
  {
    flag: 'readOnly',
    type: 'boolean',
    default: false,
    description: 'API writes answer 405: for a manifests directory owned by git (GitOps); reads still work',
    group: 'api',
  },
  {
    flag: 'apiBodyLimit',
    type: 'integer',
    default: 4194304,
    description: 'largest API request body, bytes (413 above it)',
    group: 'api',
  },
  {
    flag: 'applyWaitTimeout',
    type: 'integer',
    default: 30000,
    description: 'ms a write with ?wait=applied waits for HAProxy when it names no timeout',
    group: 'api',
  },
  {
    flag: 'label',
    type: 'string',
    description: 'logical label for this Aqueduct (logs, self-registration)',
    original: true,
    group: 'general',
  },
  {
    flag: 'thalassaHost',
    type: 'string',
    default: '127.0.0.1',
    description: 'host of the Thalassa server',
    original: true,
    group: 'registry',
  },
  {
    flag: 'thalassaPort',
    type: 'integer',
    default: 5001,
    description: 'socket (events) port of the Thalassa server',
    original: true,
    group: 'registry',
  },
  {
    flag: 'thalassaApiPort',
    type: 'integer',
    default: 9000,
    description: 'HTTP API port of the Thalassa server',
    original: true,
    group: 'registry',
  },
  {
    flag: 'registry',
    type: 'string',
    default: 'thalassa',
    choices: ['thalassa', 'socketio', 'none'],
    description:
      "where dynamic backends' members come from: thalassa (the original's axon event socket on --thalassaPort), socketio (a registry publishing over socket.io, such as `aqueduct registry`, on --thalassaApiPort), none",
    group: 'registry',
  },
  {
    flag: 'registryPollInterval',
    type: 'integer',
    default: 10000,
    description: 'ms between full reads of the registry list (events only make changes arrive sooner)',
    group: 'registry',
  },
  {
    flag: 'registryGrace',
    type: 'integer',
    default: 60000,
    description:
      'ms an instance missing from the registry list is kept (a registry restarted empty must not empty backends); explicit offline events remove at once',
    group: 'registry',
  },
  {
    flag: 'dnsServer',
    type: 'string',
    description:
      'DNS server for backends with source dns, as address or address:port ([v6]:port), e.g. 127.0.0.1:8600 for a Consul agent; default: the system resolver (/etc/resolv.conf)',
    group: 'registry',
  },
  {
    flag: 'dnsMinRefresh',
    type: 'integer',
    default: 1000,
    description:
      "ms: the soonest an SRV name is resolved again (a TTL below it, such as Consul's 0, waits this long; so does a retry after a failed query)",
    group: 'registry',
  },
  {
    flag: 'dnsMaxRefresh',
    type: 'integer',
    default: 60000,
    description: 'ms: the longest an SRV name goes without being resolved again, whatever its TTL',
    group: 'registry',
  },
  {
    flag: 'noSelfRegistration',
    type: 'boolean',
    default: false,
    description:
      'do not register this Aqueduct in the registry as thalassa-aqueduct@<version> (the original always did)',
    group: 'registry',
  },
  {
    flag: 'haproxySocketPath',
    type: 'string',
    description:
      "path of the HAProxy stats socket (runtime API, level admin); default: <stateDir>/haproxy.stats.sock, the instance's own (the original's /tmp/haproxy.status.sock was shared by every instance on a host)",
    original: true,
    group: 'haproxy',
  },
  {
    flag: 'haproxyPidPath',
    type: 'string',
    description:
      "HAProxy pid file; giving it selects pidfile mode, as the original ran its daemon (refused beside another --haproxyMode); default: <stateDir>/haproxy.pid, the instance's own (pass the original's /var/run/haproxy.pid to take over its daemon)",
    original: true,
    group: 'haproxy',
  },
  {
    flag: 'haproxyCfgPath',
    type: 'string',
    default: '/etc/haproxy/haproxy.cfg',
    description: 'where the generated HAProxy config is installed',
    original: true,
    group: 'haproxy',
  },
  {
    flag: 'templateFile',
    type: 'string',
    description: 'mustache template for haproxy.cfg (default: the bundled templates/haproxy.cfg.mustache)',
    original: true,
    group: 'haproxy',
  },
  {
    flag: 'persistence',
    type: 'string',
    description: "the original's JSON persistence file, imported into the manifests directory once at startup",
    original: true,
    group: 'manifests',
  },
  {
    flag: 'sudo',
    type: 'boolean',
    default: false,
    description: 'run haproxy through sudo -n; selects pidfile mode (refused beside another --haproxyMode)',
    original: true,
    group: 'haproxy',
  },
  {
    flag: 'debug',
    type: 'boolean',
    default: false,
    description: 'debug logging (the same as --logLevel debug)',
    original: true,
    group: 'general',
  },
  {
    flag: 'logLevel',
    type: 'string',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
    description: "the least severe log lines written; HAProxy's own lines are logged at their own level",
    group: 'general',
  },
  {
    flag: 'logFormat',
    type: 'string',
    choices: ['json', 'pretty'],
    description:
      'json (one JSON object per line) or pretty (for people); default: pretty on a terminal, json otherwise',
    group: 'general',
  },
  {
    flag: 'accessLog',
    type: 'string',
    default: 'stdout',
    description:
      "HAProxy's per-request log (httplog fields for http frontends, tcplog for tcp): stdout (a managed HAProxy's lines become Aqueduct's JSON log lines with source \"access\"; an external HAProxy writes them to its own stdout), off, or a syslog address such as 127.0.0.1:514 or udp@[::1]:514",
    group: 'haproxy',
  },
  {
    flag: 'manifests',
    type: 'string',
    default: 'manifests',
    description: 'manifests directory, watched recursively (created when the default is missing)',
    group: 'manifests',
  },
  {
    flag: 'haproxyMode',
    type: 'string',
    default: 'managed',
    choices: ['managed', 'external', 'pidfile'],
    description:
      'managed: Aqueduct runs HAProxy; external: HAProxy runs elsewhere, reloaded through its master socket; pidfile: the original daemon mode (default: external when --haproxyMasterSocket is given, pidfile when --haproxyPidPath or --sudo is, else managed)',
    group: 'haproxy',
  },
  {
    flag: 'haproxyMasterSocket',
    type: 'string',
    description:
      "master CLI socket of a master-worker HAProxy (managed: created there; external: where the HAProxy listens); default: <stateDir>/haproxy.master.sock, the instance's own",
    group: 'haproxy',
  },
  { flag: 'haproxyBin', type: 'string', default: 'haproxy', description: 'the haproxy binary', group: 'haproxy' },
  {
    flag: 'haproxyEnv',
    type: 'string',
    description:
      "comma-separated names of environment variables HAProxy may see besides PATH, the locale, TZ and TMPDIR (it never gets Aqueduct's own environment: a config can read it)",
    group: 'haproxy',
  },
  {
    flag: 'stateDir',
    type: 'string',
    description:
      'where applied generations, state and the sockets Aqueduct owns are kept; one instance at a time (default: <dir of haproxyCfgPath>/aqueduct-state for haproxy.cfg, <dir>/<name>.aqueduct-state for any other <name>.cfg)',
    group: 'haproxy',
  },
  {
    flag: 'keepGenerations',
    type: 'integer',
    default: 10,
    description: 'how many applied configs to keep in stateDir/generations',
    group: 'haproxy',
  },
  {
    flag: 'resyncInterval',
    type: 'integer',
    default: 30000,
    description:
      'ms between whole re-reads of every input (between them, only files named by events are read again; this finds what events missed); 0 turns it off, and a change no event reported waits for its next event',
    group: 'loop',
  },
  {
    flag: 'minReloadInterval',
    type: 'integer',
    default: 250,
    description:
      'the reload budget refills one reload every this many ms (up to --reloadBurst); changes arriving within 100 ms of each other are coalesced into one reload (for up to 1 s)',
    group: 'loop',
  },
  {
    flag: 'reloadBurst',
    type: 'integer',
    default: 20,
    description:
      'reloads that may follow each other at once before the budget makes them wait (--minReloadInterval refills it)',
    group: 'loop',
  },
  {
    flag: 'drainTimeout',
    type: 'integer',
    default: 30000,
    description: 'ms a removed server may keep its sessions before they are closed',
    group: 'loop',
  },
  {
    flag: 'healthGateTimeout',
    type: 'integer',
    default: 30000,
    description:
      'ms a switch to new servers of a backend with a health check waits for one of them to pass a check; past it the old servers keep serving and the wait is reported',
    group: 'loop',
  },
  {
    flag: 'stopTimeout',
    type: 'integer',
    default: 30000,
    description: 'ms requests in flight may take to finish when Aqueduct stops a managed HAProxy (SIGTERM, SIGINT)',
    group: 'haproxy',
  },
  {
    flag: 'hardStopAfter',
    type: 'string',
    default: '5m',
    description: "HAProxy hard-stop-after: old workers' maximum life after a reload",
    group: 'haproxy',
  },
  {
    flag: 'mworkerMaxReloads',
    type: 'integer',
    default: 50,
    description: 'HAProxy mworker-max-reloads: old workers surviving more reloads are stopped',
    group: 'haproxy',
  },
  {
    flag: 'statsInterval',
    type: 'integer',
    default: 2000,
    description:
      "ms between polls of HAProxy's stats for GET /stats and the /stream WebSocket (only while someone listens)",
    group: 'api',
  },
  {
    flag: 'statsBind',
    type: 'string',
    description: "serve HAProxy's stats page on this address:port (no extra port unless set)",
    group: 'haproxy',
  },
  {
    flag: 'haproxyMetricsBind',
    type: 'string',
    description:
      "serve HAProxy's built-in Prometheus exporter (its own traffic metrics) at /metrics on this address:port (none unless set)",
    group: 'haproxy',
  },
  {
    flag: 'acmeDirectory',
    type: 'string',
    description:
      'ACME directory URL (e.g. https://acme-v02.api.letsencrypt.org/directory): Certificates with spec.acme are issued and renewed there, HTTP-01 answered by HAProxy on every plain-HTTP frontend; ACME is off when unset',
    group: 'tls',
  },
  {
    flag: 'acmeEmail',
    type: 'string',
    description: "contact address for the ACME account (the directory's expiry notices go there)",
    group: 'tls',
  },
  {
    flag: 'acmeCaFile',
    type: 'string',
    description:
      "PEM file of the CA certificates to trust for the ACME directory's HTTPS (a private directory such as a local pebble); the system's CAs when unset",
    group: 'tls',
  },
  {
    flag: 'acmeRenewBefore',
    type: 'integer',
    default: 30,
    description:
      'days before expiry an ACME certificate is renewed (at most a third of its lifetime, so a short-lived one is not renewed at once); failures retry with backoff',
    group: 'tls',
  },
] as const satisfies readonly OptionSpec[];

export type RunOption = (typeof RUN_OPTIONS)[number];
export type RunOptionFlag = RunOption['flag'];

/** The value an option holds, from its row: a boolean, an integer, one of its choices, or a string. */
type ValueOf<S extends RunOption> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'integer'
    ? number
    : S extends { choices: readonly (infer C)[] }
      ? C
      : string;

/** Every option's value as the table declares it: those with a default always hold one. */
export type OptionValues = {
  [S in RunOption as S extends { default: unknown } ? S['flag'] : never]: ValueOf<S>;
} & {
  [S in RunOption as S extends { default: unknown } ? never : S['flag']]?: ValueOf<S>;
};

/** Whether one value is what its row says (an unset optional one is). */
function holds(spec: OptionSpec, value: unknown): boolean {
  if (value === undefined) return !('default' in spec);
  if (spec.type === 'boolean') return typeof value === 'boolean';
  if (spec.type === 'integer') return Number.isSafeInteger(value);
  return typeof value === 'string' && (spec.choices === undefined || spec.choices.includes(value));
}

/** The options whose values are not what the table says (empty when `values` is OptionValues). */
export function mistypedOptions(values: Readonly<Record<string, unknown>>): string[] {
  return RUN_OPTIONS.filter((spec: OptionSpec) => !holds(spec, values[spec.flag])).map((spec) => spec.flag);
}

/** Checks at run time what the type says, so the values are typed from the table without a cast. */
export function isOptionValues(values: Readonly<Record<string, unknown>>): values is OptionValues {
  return mistypedOptions(values).length === 0;
}

/** haproxySocketPath → AQUEDUCT_HAPROXY_SOCKET_PATH */
export function envName(flag: string): string {
  return `AQUEDUCT_${flag.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
