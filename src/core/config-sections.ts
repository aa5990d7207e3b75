// Reads rendered HAProxy config text back into sections and server lines, so
// the planner can tell "only servers changed" from anything else whatever
// template produced the text.

const SECTION_KEYWORDS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'peers',
  'resolvers',
  'userlist',
  'program',
  'mailers',
  'cache',
  'ring',
  'http-errors',
  'crt-store',
  'traces',
]);

export interface ServerLine {
  name: string;
  address: string;
  /** Everything after the address, whitespace-normalised. */
  args: string[];
}

export interface Section {
  /** e.g. "backend live"; '' for lines before the first section. */
  header: string;
  kind: string;
  name: string;
  /** Directive lines other than servers, whitespace-normalised, comments and blank lines dropped. */
  lines: string[];
  /** Server lines by server name (backend and listen sections). */
  servers: Map<string, ServerLine>;
}

function tokens(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
}

/** Splits config text into sections. Comments and blank lines carry no meaning and are dropped. */
export function parseSections(config: string): Section[] {
  const sections: Section[] = [];
  let current: Section = { header: '', kind: '', name: '', lines: [], servers: new Map() };
  sections.push(current);
  for (const raw of config.split('\n')) {
    const t = tokens(raw);
    if (t.length === 0 || t[0]?.startsWith('#') === true) continue;
    const first = t[0] as string;
    if (SECTION_KEYWORDS.has(first)) {
      current = { header: t.join(' '), kind: first, name: t[1] ?? '', lines: [], servers: new Map() };
      sections.push(current);
      continue;
    }
    if (first === 'server' && (current.kind === 'backend' || current.kind === 'listen') && t.length >= 3) {
      const name = t[1] as string;
      if (!current.servers.has(name)) {
        current.servers.set(name, { name, address: t[2] as string, args: t.slice(3) });
        continue;
      }
    }
    current.lines.push(t.join(' '));
  }
  return sections;
}

/** The value after a keyword in a server's args, e.g. weight. */
export function serverArg(server: ServerLine, keyword: string): string | undefined {
  const i = server.args.indexOf(keyword);
  return i === -1 ? undefined : server.args[i + 1];
}

const DYNAMIC_ALGORITHMS = new Set(['roundrobin', 'leastconn', 'random']);
const HASH_ALGORITHMS = new Set(['source', 'uri', 'url_param', 'hdr', 'rdp-cookie']);

/**
 * Whether HAProxy can add and remove servers of this section at runtime
 * without reordering traffic: dynamic algorithms (roundrobin, leastconn,
 * random), and hashing ones with "hash-type consistent". static-rr and
 * map-based hashes refuse dynamic servers; "first" depends on server order,
 * which runtime additions would not respect.
 */
export function supportsRuntimeServers(section: Section): boolean {
  const balance = section.lines.find((l) => l.startsWith('balance '));
  const algorithm = (balance?.slice('balance '.length) ?? 'roundrobin').split(/[\s(]/)[0] ?? '';
  if (DYNAMIC_ALGORITHMS.has(algorithm)) return true;
  if (HASH_ALGORITHMS.has(algorithm)) return section.lines.some((l) => /^hash-type consistent\b/.test(l));
  return false;
}
