// HAProxy's `show stat` as the stat objects the original Thalassa Aqueduct
// streamed (ids `stat/frontend/<name>`, `stat/backend/<name>`,
// `stat/backend/<name>/<server>`), and the difference between two polls, so
// the stream sends only what changed. Pure.
import { parseStatCsv } from './haproxy-output.js';

export type StatType = 'frontend' | 'backend' | 'backendMember';

export interface Stat {
  id: string;
  _type: 'stat';
  type: StatType;
  /** The frontend's, backend's or server's name. */
  key: string;
  /** The backend a server belongs to. */
  backend?: string;
  /** OPEN/FULL for frontends, UP/DOWN/MAINT/DRAIN/NOLB (with transitions like "UP 1/3") otherwise. */
  status: string;
  connections: { current: number; max: number; limit: number | null; total: number };
  /** Requests (HTTP) or sessions (TCP) per second over the last second. */
  rate: number;
  bytes: { in: number; out: number };
  errors: { request: number; connection: number; response: number };
  /** HTTP responses by class (zeros in TCP mode). */
  responses: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** Servers only. */
  weight?: number;
  check?: { status: string; code: number | null; durationMs: number | null };
  /** Seconds since the status last changed, as HAProxy reports it; not compared between polls (it ticks). */
  lastChangeSeconds?: number;
}

const int = (v: string | undefined): number => {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? 0 : n;
};
const intOrNull = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

/** Proxies of HAProxy's own (and the template's stats page), not the user's. */
const INTERNAL_PROXIES = new Set(['stats', 'GLOBAL', 'MASTER']);

/** One stat object per frontend, backend and server of a `show stat` answer (HAProxy's internal proxies left out). */
export function statsFromCsv(csv: string): Stat[] {
  const out: Stat[] = [];
  for (const row of parseStatCsv(csv)) {
    const px = row['pxname'] ?? '';
    const sv = row['svname'] ?? '';
    if (px === '' || INTERNAL_PROXIES.has(px) || px.startsWith('<')) continue;
    const type: StatType = sv === 'FRONTEND' ? 'frontend' : sv === 'BACKEND' ? 'backend' : 'backendMember';
    const base: Stat = {
      id:
        type === 'frontend'
          ? `stat/frontend/${px}`
          : type === 'backend'
            ? `stat/backend/${px}`
            : `stat/backend/${px}/${sv}`,
      _type: 'stat',
      type,
      key: type === 'backendMember' ? sv : px,
      status: row['status'] ?? '',
      connections: {
        current: int(row['scur']),
        max: int(row['smax']),
        limit: intOrNull(row['slim']),
        total: int(row['stot']),
      },
      rate: row['req_rate'] !== undefined && row['req_rate'] !== '' ? int(row['req_rate']) : int(row['rate']),
      bytes: { in: int(row['bin']), out: int(row['bout']) },
      errors: { request: int(row['ereq']), connection: int(row['econ']), response: int(row['eresp']) },
      responses: {
        '2xx': int(row['hrsp_2xx']),
        '3xx': int(row['hrsp_3xx']),
        '4xx': int(row['hrsp_4xx']),
        '5xx': int(row['hrsp_5xx']),
      },
    };
    if (type !== 'frontend') base.lastChangeSeconds = int(row['lastchg']);
    if (type === 'backendMember') {
      base.backend = px;
      base.weight = int(row['weight']);
      base.check = {
        status: row['check_status'] ?? '',
        code: intOrNull(row['check_code']),
        durationMs: intOrNull(row['check_duration']),
      };
    }
    out.push(base);
  }
  return out;
}

/** What a client must be told: the fields that tick on their own (time since change, check duration) do not count. */
function comparable(s: Stat): string {
  const { lastChangeSeconds: _l, check, ...rest } = s;
  return JSON.stringify({ ...rest, check: check && { status: check.status, code: check.code } });
}

export interface StatsDelta {
  changed: Stat[];
  removed: string[];
}

export function diffStats(previous: ReadonlyMap<string, Stat>, next: readonly Stat[]): StatsDelta {
  const changed: Stat[] = [];
  const seen = new Set<string>();
  for (const s of next) {
    seen.add(s.id);
    const before = previous.get(s.id);
    if (before === undefined || comparable(before) !== comparable(s)) changed.push(s);
  }
  const removed = [...previous.keys()].filter((id) => !seen.has(id));
  return { changed, removed };
}
