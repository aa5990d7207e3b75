// Reads rendered HAProxy config text back into sections and server lines, so
// the planner can tell "only servers changed" from anything else whatever
// template produced the text.
import { mapOwner, parseRouteEntry, ROUTE_ENTRY_PREFIX } from './route-maps.js';

/**
 * Every keyword that opens a section in HAProxy 2.4 to 3.2 (a test compares
 * it with the sections the installed HAProxy knows). The natives policy and
 * the section splitter both read it: one list.
 */
export const SECTION_KEYWORDS: ReadonlySet<string> = new Set([
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
  'fcgi-app',
  'log-forward',
  'namespace_list',
  'crt-store',
  'traces',
  'acme',
]);

export interface ServerLine {
  name: string;
  /** The whole line, trimmed and single-spaced: "server <name> <address> <args...>". */
  text: string;
}

export interface Section {
  /** e.g. "backend live"; '' for lines before the first section. */
  header: string;
  kind: string;
  name: string;
  /** Directive lines other than servers, trimmed and single-spaced; comments and blank lines dropped. */
  lines: string[];
  /** Server lines by server name (backend and listen sections). */
  servers: Map<string, ServerLine>;
  /** The entries of the routing maps this section owns (route-maps.ts), by file, in order. */
  routeMaps: Map<string, [string, string][]>;
}

const IRREGULAR_SPACE = /\s\s|\t/;

/** Trimmed and single-spaced; rendered lines already are, so they skip the regex. */
function normalise(raw: string): string {
  const trimmed = raw.trim();
  return IRREGULAR_SPACE.test(trimmed) ? trimmed.split(/\s+/).join(' ') : trimmed;
}

/** A section as raw text: its header line and everything up to the next header. */
export interface SectionText {
  header: string;
  kind: string;
  body: string;
}

/**
 * Cuts config text at section headers without tokenising the lines inside,
 * so equal sections can be compared as plain strings.
 */
export function splitSections(config: string): SectionText[] {
  const out: SectionText[] = [];
  let header = '';
  let kind = '';
  let bodyStart = 0;
  let pos = 0;
  while (pos <= config.length) {
    let end = config.indexOf('\n', pos);
    if (end === -1) end = config.length;
    const word = sectionKeywordAt(config, pos, end);
    if (word !== undefined) {
      out.push({ header, kind, body: config.slice(bodyStart, pos) });
      header = normalise(config.slice(pos, end));
      kind = word;
      bodyStart = end + 1;
    }
    pos = end + 1;
  }
  out.push({ header, kind, body: config.slice(Math.min(bodyStart, config.length)) });
  return out;
}

/** The first letters of the section keywords: a line starting with any other (every `server`) is no header. */
const KEYWORD_STARTS = new Set([...SECTION_KEYWORDS].map((k) => k.charCodeAt(0)));

/** The section keyword the line [pos, end) opens with, if it is a header. */
function sectionKeywordAt(config: string, pos: number, end: number): string | undefined {
  // Section headers start with a keyword; directive lines are told apart at their first letter when they can be.
  let i = pos;
  while (i < end && (config.charCodeAt(i) === 32 || config.charCodeAt(i) === 9)) i++;
  if (i >= end || !KEYWORD_STARTS.has(config.charCodeAt(i))) return undefined;
  let j = i;
  while (j < end && config.charCodeAt(j) !== 32 && config.charCodeAt(j) !== 9) j++;
  const word = config.slice(i, j);
  return SECTION_KEYWORDS.has(word) ? word : undefined;
}

/** A section with its header and nothing in it yet. */
const emptySection = (header: string, kind: string): Section => ({
  header,
  kind,
  name: header.split(' ')[1] ?? '',
  lines: [],
  servers: new Map(),
  routeMaps: new Map(),
});

/** Parses one section's text into directive lines and server lines. */
export function parseSection(text: SectionText): Section {
  const section = emptySection(text.header, text.kind);
  const serversAllowed = text.kind === 'backend' || text.kind === 'listen';
  for (const raw of text.body.split('\n')) {
    const line = normalise(raw);
    if (line === '') continue;
    if (line.startsWith('#')) {
      routeEntry(section, line);
      continue;
    }
    if (serversAllowed && line.startsWith('server ')) {
      const nameEnd = line.indexOf(' ', 7);
      if (nameEnd !== -1) {
        const server = line.slice(7, nameEnd);
        if (!section.servers.has(server)) {
          section.servers.set(server, { name: server, text: line });
          continue;
        }
      }
    }
    section.lines.push(line);
  }
  return section;
}

/**
 * Keeps a map entry of a map this section owns (its file is named after the
 * section); any other comment, an entry for another section's map included,
 * carries no meaning.
 */
function routeEntry(section: Section, line: string): void {
  if (section.kind !== 'frontend' && section.kind !== 'listen') return;
  const e = parseRouteEntry(line);
  if (e === undefined || mapOwner(e.file) !== section.name) return;
  let entries = section.routeMaps.get(e.file);
  if (entries === undefined) section.routeMaps.set(e.file, (entries = []));
  entries.push([e.key, e.value]);
}

/**
 * Every routing map of a config with its entries, by file (what the map
 * files must hold): the entries parseSection keeps, found by looking only at
 * the entry lines and the headers before them, not at every line (a config
 * of 10,000 servers is split in ~5 ms before the JIT warms, twice per start).
 */
export function routeMapsOf(config: string): Map<string, [string, string][]> {
  const sections = new Map<string, Section>();
  let section: Section | undefined;
  let pos = 0;
  // The keyword alone: an entry is read as parseSection reads it, blanks normalised.
  const word = ROUTE_ENTRY_PREFIX.slice(2).trim();
  for (let at = config.indexOf(word); at !== -1; at = config.indexOf(word, pos)) {
    const lineStart = config.lastIndexOf('\n', at) + 1;
    for (; pos < lineStart;) {
      const end = config.indexOf('\n', pos);
      const kind = sectionKeywordAt(config, pos, end);
      if (kind !== undefined) section = headerSection(normalise(config.slice(pos, end)), kind, sections);
      pos = end + 1;
    }
    let end = config.indexOf('\n', at);
    if (end === -1) end = config.length;
    if (section !== undefined) routeEntry(section, normalise(config.slice(lineStart, end)));
    pos = end + 1;
  }
  const out = new Map<string, [string, string][]>();
  for (const s of sections.values()) for (const [file, entries] of s.routeMaps) out.set(file, entries);
  return out;
}

/** An empty section for a header, the same one again for a header seen before. */
function headerSection(header: string, kind: string, seen: Map<string, Section>): Section {
  const known = seen.get(header);
  if (known !== undefined) return known;
  const s = emptySection(header, kind);
  seen.set(header, s);
  return s;
}

/** Splits config text into parsed sections. Comments and blank lines carry no meaning and are dropped. */
export function parseSections(config: string): Section[] {
  return splitSections(config).map(parseSection);
}

/** Address and arguments of a server line. */
export function serverParts(server: ServerLine): { address: string; args: string[] } {
  const t = server.text.split(' ');
  return { address: t[2] ?? '', args: t.slice(3) };
}

/** The value after a keyword in a server's args, e.g. weight. */
export function serverArg(server: ServerLine, keyword: string): string | undefined {
  const { args } = serverParts(server);
  const i = args.indexOf(keyword);
  return i === -1 ? undefined : args[i + 1];
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
