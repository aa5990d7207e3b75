// What the dashboard knows: the API's objects, HAProxy's stats as the stream
// keeps them current, and a short history of rates for the charts. Pure
// helpers only (no preact), so the unit tests can import this file.
import type { ApplyRecord as Apply } from '../../src/core/planning/ledger.js';
import type { Stat } from '../../src/core/haproxy-output/stats.js';
import type { ApiCertificate as Certificate } from '../../src/core/tls/certificate-types.js';
import type {
  ApiBackend as Backend,
  ApiFrontend as Frontend,
  ApiRollout as Rollout,
  ApiStatus as Status,
} from '../../src/core/manifests/api-shapes.js';

// The API's own types (src/core/manifests/api-shapes.ts, which its routes answer with): a shape
// changed there fails this build instead of showing '/:' or '?' on a page.
export type { Apply, Backend, Certificate, Frontend, Rollout, Stat, Status };

export interface Point {
  t: number;
  rate: number;
  errors: number;
}

const HISTORY = 300; // points per backend: 10 minutes at the default 2 s poll

/**
 * HAProxy's stats by id, with each backend's recent requests/s and 5xx/s.
 * The stream sends only what changed, so at each message every stat it
 * knows gets a rate: one left out did not move (0 5xx/s), instead of keeping
 * the last figure or none.
 */
export class StatsStore {
  readonly byId = new Map<string, Stat>();
  readonly history = new Map<string, Point[]>();
  private last5xx = new Map<string, { at: number; count: number }>();
  /** 5xx per second over the last interval, by stat id; none before the second message. */
  readonly errorRate = new Map<string, number>();
  /** Whether the stream's first snapshot has arrived: before it, no stat means "not known yet". */
  received = false;

  apply(changed: Stat[], removed: string[] = [], now = Date.now()): void {
    this.received = true;
    for (const s of changed) this.byId.set(s.id, s);
    for (const id of removed) {
      this.byId.delete(id);
      this.last5xx.delete(id);
      this.errorRate.delete(id);
    }
    for (const s of this.byId.values()) {
      const prev = this.last5xx.get(s.id);
      const count = s.responses['5xx'];
      if (prev !== undefined && now > prev.at)
        this.errorRate.set(s.id, Math.max(0, count - prev.count) / ((now - prev.at) / 1000));
      this.last5xx.set(s.id, { at: now, count });
      if (s.type === 'backend') this.remember(s, now);
    }
  }

  private remember(s: Stat, now: number): void {
    const h = this.history.get(s.key) ?? [];
    h.push({ t: now / 1000, rate: s.rate, errors: this.errorRate.get(s.id) ?? 0 });
    if (h.length > HISTORY) h.shift();
    this.history.set(s.key, h);
  }

  backend(name: string): Stat | undefined {
    return this.byId.get(`stat/backend/${name}`);
  }

  members(name: string): Stat[] {
    return [...this.byId.values()].filter((s) => s.type === 'backendMember' && s.backend === name);
  }
}

/**
 * Why HAProxy holds a server in its state, when it says: "resolution" for
 * "MAINT (resolution)" (its host name does not resolve), "via b/s" for a
 * tracked one. Shown where a check result would be, since such a server is
 * not checked.
 */
export function stateReason(s: Stat | undefined): string | undefined {
  return s === undefined ? undefined : /\(([^)]+)\)/.exec(s.status)?.[1];
}

/** "UP", "DOWN", "MAINT", "DRAIN", "no check" and HAProxy's transitions, as one word for a badge. */
export function stateWord(s: Stat | undefined): string {
  if (s === undefined) return 'unknown';
  const word = s.status.split(' ')[0] ?? s.status;
  if (word === 'no') return 'no check';
  return word;
}

/** The Problems view's line about the registry: off, connected, or disconnected and why. */
export function registryText(registry: Status['registry']): string {
  if (registry === undefined || registry.kind === 'none') return 'none configured (--registry none)';
  if (registry.connected === true) return 'connected';
  return `disconnected${registry.lastError ? `: ${registry.lastError}` : ''}`;
}

/** The version of the member behind an HAProxy server name (`<backend>_<host>:<port>`), when the API says. */
export function memberVersion(b: Backend, server: string): string | undefined {
  const m = b.members.find((x) => server.endsWith(`_${x.host}:${x.port}`));
  return m !== undefined && 'version' in m ? m.version : undefined;
}

/**
 * A backend's members for the Overview: up and total from HAProxy's stats
 * once the stream's first snapshot is in; before it, the total the API
 * lists and no count of up (not "0/0").
 */
export function memberCounts(stats: StatsStore, b: Backend): { up: number | undefined; total: number } {
  if (!stats.received) return { up: undefined, total: b.members.length };
  const members = stats.members(b.key);
  return { up: members.filter((m) => stateWord(m) === 'UP').length, total: members.length };
}

/** The state badge of a backend: HAProxy's word once stats are in; what is known before. */
export function backendState(stats: StatsStore, name: string): string {
  if (!stats.received) return 'loading';
  const s = stats.backend(name);
  return s === undefined ? 'not served' : stateWord(s);
}

/** The last check of a member, or why it has none: HAProxy's reason, or a host name the API says does not resolve. */
export function lastCheck(s: Stat, unresolved: readonly string[] = []): string {
  if (s.check?.status) return s.check.status;
  const reason = stateReason(s);
  if (reason === 'resolution' || unresolved.some((hp) => s.key.endsWith(`_${hp}`)))
    return 'not checked: its host name does not resolve';
  return reason ?? '–';
}

/** The Applies view's entries: each apply that changed something, and runs of looks that changed nothing as one group. */
export type AppliesEntry = { apply: Apply } | { noops: Apply[] };

export function foldNoops(applies: readonly Apply[]): AppliesEntry[] {
  const out: AppliesEntry[] = [];
  for (const a of applies) {
    const quiet = a.plan === 'noop' && a.result === 'ok' && a.event === undefined;
    const last = out.at(-1);
    if (!quiet) out.push({ apply: a });
    else if (last !== undefined && 'noops' in last) last.noops.push(a);
    else out.push({ noops: [a] });
  }
  return out;
}

/** One entry of the activity feed (src/observe/activity.ts), as the stream sends it. */
export interface ActivityEvent {
  event: string;
  at: string;
  [k: string]: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const withReason = (text: string, reason: unknown): string => (str(reason) === '' ? text : `${text}: ${str(reason)}`);

/** An activity as a sentence a person reads ("apply 21: reload ok, frontend myapp changed, 182 ms"). */
export function activitySentence(e: ActivityEvent): string {
  const apply = `apply ${str(e['apply'])}`;
  switch (e.event) {
    case 'config-changed': {
      const reasons = Array.isArray(e['reasons']) ? e['reasons'].map(str).filter((r) => r !== '') : [];
      const ms = typeof e['durationMs'] === 'number' ? `${e['durationMs']} ms` : '';
      return [`${apply}: ${str(e['plan'])} ok`, ...reasons, ms].filter((p) => p !== '').join(', ');
    }
    case 'reloaded':
      return `HAProxy reloaded (${apply})${e['workerPid'] === undefined ? '' : `, new worker ${str(e['workerPid'])}`}`;
    case 'apply-failed':
      return withReason(`${apply} ${str(e['result'])}`, e['error']);
    case 'registry-online':
      return `registry: ${str(e['id'])} came online`;
    case 'registry-offline':
      return `registry: ${str(e['id'])} went offline`;
    case 'registry-connected':
      return 'registry connected';
    case 'registry-disconnected':
      return withReason('registry disconnected', e['reason']);
    case 'haproxy-exited':
      return withReason('HAProxy exited', e['message']);
    case 'haproxy-back':
      return withReason('HAProxy is back', e['message']);
    default:
      // Rollouts and health gates carry their own sentence.
      return str(e['message']) || e.event.replace(/-/g, ' ');
  }
}

type Position = NonNullable<Rollout['position']>;

/** "Rollout 1.0.0 → 1.2.0: aborted at step 1 (why)", from the recorded position, which knows its versions after the spec is gone. */
export function rolloutLine(p: Position): string {
  const why = p.reason ? ` (${p.reason})` : '';
  const step = `step ${p.step + 1}`;
  const where = p.state === 'progressing' ? `progressing, ${step}, ${p.share}% of requests` : `${p.state} at ${step}`;
  return `Rollout ${p.from} → ${p.to}: ${where}${why}`;
}

/** The Problems view's line about the DNS source, once it follows a name: answering, or failing and why. */
export function dnsText(dns: NonNullable<Status['sources']>[string] | undefined): string | undefined {
  if (dns === undefined || (dns.lastSync === null && dns.lastError === null)) return undefined;
  const n = `${dns.instances} instance${dns.instances === 1 ? '' : 's'}`;
  return dns.connected ? `answering (${n})` : `failing: ${dns.lastError ?? ''} (the last known ${n} keep serving)`;
}
