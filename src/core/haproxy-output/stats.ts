// HAProxy's `show stat` as the stat objects the original Thalassa Aqueduct
// streamed (ids `stat/frontend/<name>`, `stat/backend/<name>`,
// `stat/backend/<name>/<server>`), and the difference between two polls, so
// the stream sends only what changed. Pure.

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
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};
const intOrNull = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

/** Proxies of HAProxy's own (and the template's stats page), not the user's. */
const INTERNAL_PROXIES = new Set(['stats', 'GLOBAL', 'MASTER', 'aqueduct-stats', 'aqueduct-metrics']);

/** One stat object per frontend, backend and server of a `show stat` answer (HAProxy's internal proxies left out). */
export function statsFromCsv(csv: string): Stat[] {
  // Read by column index rather than building a record per row: 10,000 servers are 4 MB every poll.
  const lines = csv.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) return [];
  const index = new Map(
    header
      .slice(2)
      .split(',')
      .map((c, i) => [c, i]),
  );
  const out: Stat[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(',');
    const col = (name: string): string | undefined => {
      const i = index.get(name);
      return i === undefined ? undefined : f[i];
    };
    const px = col('pxname') ?? '';
    const sv = col('svname') ?? '';
    if (px === '' || INTERNAL_PROXIES.has(px) || px.startsWith('<')) continue;
    const type: StatType = sv === 'FRONTEND' ? 'frontend' : sv === 'BACKEND' ? 'backend' : 'backendMember';
    const reqRate = col('req_rate');
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
      status: col('status') ?? '',
      connections: {
        current: int(col('scur')),
        max: int(col('smax')),
        limit: intOrNull(col('slim')),
        total: int(col('stot')),
      },
      rate: reqRate !== undefined && reqRate !== '' ? int(reqRate) : int(col('rate')),
      bytes: { in: int(col('bin')), out: int(col('bout')) },
      errors: { request: int(col('ereq')), connection: int(col('econ')), response: int(col('eresp')) },
      responses: {
        '2xx': int(col('hrsp_2xx')),
        '3xx': int(col('hrsp_3xx')),
        '4xx': int(col('hrsp_4xx')),
        '5xx': int(col('hrsp_5xx')),
      },
    };
    if (type !== 'frontend') base.lastChangeSeconds = int(col('lastchg'));
    if (type === 'backendMember') {
      base.backend = px;
      base.weight = int(col('weight'));
      base.check = {
        status: col('check_status') ?? '',
        code: intOrNull(col('check_code')),
        durationMs: intOrNull(col('check_duration')),
      };
    }
    out.push(base);
  }
  return out;
}

/** What a client must be told: the fields that tick on their own (time since change, check duration) do not count. */
export function statSignature(s: Stat): string {
  const { lastChangeSeconds: _l, check, ...rest } = s;
  return JSON.stringify({ ...rest, check: check && { status: check.status, code: check.code } });
}

export interface StatsDelta {
  changed: Stat[];
  removed: string[];
}

/**
 * What changed between two polls. `previous` maps ids to the signatures of
 * the last poll; the returned `signatures` are this poll's, for the next
 * call (each stat is serialised once per poll, not twice).
 */
export function diffStats(
  previous: ReadonlyMap<string, string>,
  next: readonly Stat[],
): StatsDelta & { signatures: Map<string, string> } {
  const changed: Stat[] = [];
  const signatures = new Map<string, string>();
  for (const s of next) {
    const sig = statSignature(s);
    signatures.set(s.id, sig);
    if (previous.get(s.id) !== sig) changed.push(s);
  }
  const removed = [...previous.keys()].filter((id) => !signatures.has(id));
  return { changed, removed, signatures };
}
