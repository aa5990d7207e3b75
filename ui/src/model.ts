import type { ApplyRecord as Apply } from '../../src/core/planning/ledger.js';
import type { ProcessStatus } from '../../src/core/haproxy-output/process-status.js';
import type { Stat } from '../../src/core/haproxy-output/stats.js';
import type { ApiCertificate as Certificate } from '../../src/core/tls/certificate-types.js';

export type { Apply, Certificate, Stat };
// What the dashboard knows: the API's objects, HAProxy's stats as the stream
// keeps them current, and a short history of rates for the charts.

export interface ObjectStatus {
  id: string;
  kind: 'Frontend' | 'Backend' | 'Certificate';
  name: string;
  state: 'applied' | 'pending' | 'invalid';
  serving: 'current' | 'previous' | 'none';
  file: string | null;
  issues: string[];
  lastError: string | null;
  /** Why the applied backend is not served as declared (a held switch, unresolved members, a health gate). */
  held?: string | null;
}

export interface Status {
  ready: boolean;
  lastApply: Apply | null;
  objects: ObjectStatus[];
  /** Every problem of the directory, one line each ("file:line (document N) Kind/name path: message"). */
  issues: string[];
  access: { readOnly: boolean; readToken: boolean; writeToken: boolean };
  /** The registry source's status; kind none with --registry none. */
  registry?: { kind?: string; connected?: boolean; lastError?: string | null; [k: string]: unknown };
  haproxy?: ProcessStatus;
}

export interface Rule {
  type: string;
  header?: string;
  operation: string;
  value: string;
  backend: string;
}

export interface Frontend {
  key: string;
  bind: string;
  backend: string;
  mode: string;
  rules: Rule[];
}

export interface Member {
  host: string;
  port: number;
  version?: string;
  weight?: number;
}

export interface Backend {
  key: string;
  type: 'static' | 'dynamic';
  mode: string;
  balance: string;
  name?: string;
  version?: string;
  versions?: { version: string; weight: number }[];
  rollout?: { to: string; steps?: number[] };
  members: Member[];
  /** The API's status of the object; `held` says why HAProxy does not serve it as declared. */
  status?: { state?: string; held?: string | null };
}

export interface Point {
  t: number;
  rate: number;
  errors: number;
}

const HISTORY = 300; // points per backend: 10 minutes at the default 2 s poll

/** HAProxy's stats by id, with each backend's recent requests/s and 5xx/s. */
export class StatsStore {
  readonly byId = new Map<string, Stat>();
  readonly history = new Map<string, Point[]>();
  private last5xx = new Map<string, { at: number; count: number }>();
  /** 5xx per second over the last interval, by stat id. */
  readonly errorRate = new Map<string, number>();

  apply(changed: Stat[], removed: string[] = [], now = Date.now()): void {
    for (const s of changed) {
      this.byId.set(s.id, s);
      const prev = this.last5xx.get(s.id);
      const count = s.responses['5xx'];
      if (prev !== undefined && now > prev.at)
        this.errorRate.set(s.id, Math.max(0, count - prev.count) / ((now - prev.at) / 1000));
      this.last5xx.set(s.id, { at: now, count });
      if (s.type === 'backend') {
        const h = this.history.get(s.key) ?? [];
        h.push({ t: now / 1000, rate: s.rate, errors: this.errorRate.get(s.id) ?? 0 });
        if (h.length > HISTORY) h.shift();
        this.history.set(s.key, h);
      }
    }
    for (const id of removed) this.byId.delete(id);
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
