// Routing rules as HAProxy maps, so that pointing a host or a path at another
// existing backend is a runtime map update instead of a reload (the peers'
// users' first complaint after member changes; kubernetes-ingress routes
// through maps for the same reason).
//
// A frontend's rules are already in precedence order (desired-state.ts
// compareRules). Each run of consecutive rules on the same fetch becomes one
// map, consulted by one `use_backend %[<fetch>,map_<match>(<file>)]` line, so
// the order between runs is the order of today's ACLs. Inside a run the map
// picks what the first matching ACL would have picked: exact keys are unique
// (the first rule for a key wins), map_beg returns the longest matching prefix
// and prefixes are sorted longest first, and map_dom and map_reg try their
// entries in file order, which is rule order.
//
// The entries are rendered into the config itself, as comment lines under the
// use_backend line: the config text stays the one artifact that says what is
// served (the planner diffs it, the ledger keeps it, the dashboard shows its
// diff), and the map files are written from it (haproxy/route-map-files.ts).
import type { DesiredRule } from './desired-state.js';

/** How each rule criterion that can live in a map is looked up: the sample to fetch and the map converter. */
const MAP_LOOKUP: Readonly<Record<string, { fetch: string; match: string }>> = {
  path: { fetch: 'path', match: 'map_str' },
  path_beg: { fetch: 'path', match: 'map_beg' },
  path_reg: { fetch: 'path', match: 'map_reg' },
  url: { fetch: 'url', match: 'map_str' },
  url_beg: { fetch: 'url', match: 'map_beg' },
  url_reg: { fetch: 'url', match: 'map_reg' },
  // Only Host: an hdr_dom ACL tries every comma-separated value of a header,
  // the req.hdr() sample only the last, so a header that may carry a list
  // (any other) keeps its ACL. A Host header holds one name.
  'hdr_dom(host)': { fetch: 'req.hdr(host)', match: 'map_dom' },
};

/**
 * A value a map file and the runtime API carry unchanged: a map file's key
 * ends at the first blank and a leading '#' makes a comment, the runtime API
 * splits commands at ';' and words at blanks and reads '\' as an escape.
 * A rule with any of these (or a quote, or a leading '-' that reads like a
 * flag, kept out for good measure) stays an ACL.
 */
const MAP_SAFE = /^[^\s#;\\'"-][^\s#;\\'"]*$/;

/** The comment line that carries one map entry: `# route-map <file> <key> <backend>`. */
export const ROUTE_ENTRY_PREFIX = '# route-map ';

export interface AclRoute {
  acl: { name: string; criterion: string; quotedValue: string; backend: string };
  map: null;
}

export interface MapRoute {
  acl: null;
  map: {
    file: string;
    /** `<fetch>,map_<match>(<file>)`: the backend name, when an entry matches. */
    sample: string;
    /** The entry comment lines, in map order. */
    entries: string[];
  };
}

/** One use_backend line of a frontend, in order: an ACL rule or a map of a run of rules. */
export type RouteView = AclRoute | MapRoute;

/**
 * <haproxyCfgPath>.maps: the routing maps' folder, beside the config because
 * HAProxy reads them wherever it reads the config (an external HAProxy's
 * container mounts that folder, not Aqueduct's state), one folder per config
 * file so two instances never share one.
 */
export const routeMapDir = (haproxyCfgPath: string): string => `${haproxyCfgPath}.maps`;

/** The map file of a frontend's n-th map: <mapDir>/<frontend>.<n>.map (what mapOwner reads back). */
export const routeMapFile = (mapDir: string, frontend: string, n: number): string => `${mapDir}/${frontend}.${n}.map`;

/** A map file's name without its folder, e.g. web.1.map (as the ledger and HAProxy's messages name it). */
export const mapName = (file: string): string => file.slice(file.lastIndexOf('/') + 1);

/** The frontend a map file belongs to, from its name; undefined when it is not one of routeMapFile's. */
export function mapOwner(file: string): string | undefined {
  return /^(.+)\.\d+\.map$/.exec(mapName(file))?.[1];
}

const aclRoute = (r: DesiredRule): AclRoute => ({
  acl: { name: r.acl, criterion: r.criterion, quotedValue: `'${r.value}'`, backend: r.backend },
  map: null,
});

function mapRoute(file: string, criterion: string, rules: readonly DesiredRule[]): MapRoute {
  const lookup = MAP_LOOKUP[criterion] as { fetch: string; match: string };
  const seen = new Set<string>();
  const entries: string[] = [];
  for (const r of rules) {
    if (seen.has(r.value)) continue; // a repeated key: the first rule won as an ACL too
    seen.add(r.value);
    entries.push(`${ROUTE_ENTRY_PREFIX}${file} ${r.value} ${r.backend}`);
  }
  return { acl: null, map: { file, sample: `${lookup.fetch},${lookup.match}(${file})`, entries } };
}

const mappable = (r: DesiredRule): boolean => r.criterion in MAP_LOOKUP && MAP_SAFE.test(r.value);

/** A frontend's rules (in precedence order) as its use_backend lines; maps are numbered from 1 in order. */
export function routeViews(frontend: string, rules: readonly DesiredRule[], mapDir: string): RouteView[] {
  const out: RouteView[] = [];
  let i = 0;
  while (i < rules.length) {
    const first = rules[i] as DesiredRule;
    if (!mappable(first)) {
      out.push(aclRoute(first));
      i++;
      continue;
    }
    let end = i + 1;
    while (end < rules.length && mappable(rules[end] as DesiredRule) && rules[end]?.criterion === first.criterion)
      end++;
    const n = out.filter((r) => r.map !== null).length + 1;
    out.push(mapRoute(routeMapFile(mapDir, frontend, n), first.criterion, rules.slice(i, end)));
    i = end;
  }
  return out;
}

export interface RouteEntry {
  file: string;
  key: string;
  value: string;
}

/** Reads a normalised (trimmed, single-spaced) config line as a map entry; undefined when it is none. */
export function parseRouteEntry(line: string): RouteEntry | undefined {
  if (!line.startsWith(ROUTE_ENTRY_PREFIX)) return undefined;
  const [file, key, value, ...rest] = line.slice(ROUTE_ENTRY_PREFIX.length).split(' ');
  if (file === undefined || key === undefined || value === undefined || rest.length > 0) return undefined;
  return { file, key, value };
}

/** A map file's content: one "key value" line per entry, in order. */
export const mapFileText = (entries: readonly (readonly [string, string])[]): string =>
  entries.map(([k, v]) => `${k} ${v}\n`).join('');
