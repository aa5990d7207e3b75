// Listen and connect addresses compared by what they mean to the kernel:
// "*:8080,127.0.0.1:80,[::1]:8443" → normalised listen addresses, and the
// addresses Aqueduct itself owns (its API, HAProxy's stats and metrics, the
// registry it reads), which no frontend may take and no member may point at.

export interface BindAddress {
  /** '*' for every IPv4 address, otherwise the address as written ([v6] keeps its brackets). */
  address: string;
  port: number;
  /** As rendered on a bind line. */
  text: string;
  /**
   * What the address means, for comparisons: 127.1, 0177.0.0.1, [::ffff:127.0.0.1] and localhost
   * are all 127.0.0.1; '*' is every IPv4 address, '[::]' every address (HAProxy binds it dual-stack).
   * A name /etc/hosts does not know stays as written.
   */
  canonical: string;
}

/** Names this machine resolves itself (/etc/hosts), lower-cased, to canonical addresses. */
export type HostTable = ReadonlyMap<string, readonly string[]>;

/** Debian's /etc/hosts loopback names, used when the file cannot be read. */
export const DEFAULT_HOSTS: HostTable = new Map([
  ['localhost', ['127.0.0.1', '[::1]']],
  ['localhost.localdomain', ['127.0.0.1']],
  ['ip6-localhost', ['[::1]']],
  ['ip6-loopback', ['[::1]']],
]);

const WILDCARDS = new Set(['', '*', '0.0.0.0']);
const MAPPED_V4 = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/;

/** [::ffff:7f00:1] → 127.0.0.1: an IPv4-mapped address is that IPv4 address to the kernel. */
function unmapped(v6: string): string {
  const m = MAPPED_V4.exec(v6);
  if (m === null) return v6;
  const hi = parseInt(m[1] ?? '0', 16);
  const lo = parseInt(m[2] ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** One IP address in any spelling (127.1, 0x7f.0.0.1, [::FFFF:127.0.0.1]) as one text; undefined for a name. */
function canonicalIp(host: string): string | undefined {
  const h = host.toLowerCase();
  if (WILDCARDS.has(h)) return '*';
  const bracketed = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
  try {
    // The WHATWG URL parser reads IPv4 as inet_aton does and normalises IPv6: pure, and the same rules.
    const parsed = new URL(`http://${bracketed}/`).hostname;
    if (parsed === '0.0.0.0') return '*';
    if (parsed.startsWith('[')) return unmapped(parsed);
    return /^\d+\.\d+\.\d+\.\d+$/.test(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Every address a host means: an IP in any spelling, a name from the host table, or [name] as written. */
export function hostMeanings(host: string, hosts: HostTable = DEFAULT_HOSTS): string[] {
  const ip = canonicalIp(host);
  if (ip !== undefined) return [ip];
  const known = hosts.get(host.toLowerCase());
  return known !== undefined && known.length > 0 ? [...known] : [host.toLowerCase()];
}

/** The first address a host means (HAProxy binds the first one a name resolves to). */
export const canonicalHost = (host: string, hosts: HostTable = DEFAULT_HOSTS): string =>
  hostMeanings(host, hosts)[0] ?? host;

/** Splits a bind list that passed the schema; badPort names the first item whose port is out of range. */
export function parseBind(
  bind: string,
  hosts: HostTable = DEFAULT_HOSTS,
): { addresses: BindAddress[]; badPort?: string } {
  const addresses: BindAddress[] = [];
  for (const raw of bind.split(',')) {
    const item = raw.trim();
    const colon = item.lastIndexOf(':');
    const host = item.slice(0, colon);
    const portText = item.slice(colon + 1);
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { addresses, badPort: item };
    const address = WILDCARDS.has(host) ? '*' : host.toLowerCase();
    addresses.push({ address, port, text: `${address}:${port}`, canonical: canonicalHost(host, hosts) });
  }
  return { addresses };
}

const isV6 = (x: string): boolean => x.startsWith('[');
const isLoopback = (x: string): boolean => x === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(x);

/**
 * Whether two listen addresses would compete for the same socket: the same
 * address by meaning, or a wildcard covering the other ('*' every IPv4
 * address, '[::]' every address: HAProxy binds it dual-stack).
 */
export function bindsOverlap(a: BindAddress, b: BindAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.canonical === b.canonical) return true;
  if (a.canonical === '[::]' || b.canonical === '[::]') return true;
  if (a.canonical === '*' && !isV6(b.canonical)) return true;
  if (b.canonical === '*' && !isV6(a.canonical)) return true;
  return false;
}

/** An address Aqueduct itself listens on (its API, the stats page), which no frontend may take. */
export interface ReservedBind {
  address: BindAddress;
  /** Who holds it, e.g. "Aqueduct's REST API (--host/--port)". */
  owner: string;
}

/**
 * Whether a frontend's bind takes or shadows a reserved address: it overlaps
 * it, or the reserved one answers on loopback (a loopback or wildcard
 * address) and the bind is any loopback address on that port, since clients
 * of `localhost` try [::1] and 127.0.0.1 in turn and would reach the bind.
 */
export function shadowsReserved(r: BindAddress, b: BindAddress): boolean {
  if (bindsOverlap(r, b)) return true;
  const answersLocally = isLoopback(r.canonical) || r.canonical === '*' || r.canonical === '[::]';
  return r.port === b.port && answersLocally && isLoopback(b.canonical);
}

/** A reserved bind from host and port as an option gives them. */
export function reservedBind(hostOption: string, port: number, owner: string, hosts = DEFAULT_HOSTS): ReservedBind {
  const host = hostOption.includes(':') && !hostOption.startsWith('[') ? `[${hostOption}]` : hostOption;
  const address = WILDCARDS.has(host) ? '*' : host.toLowerCase();
  return { address: { address, port, text: `${address}:${port}`, canonical: canonicalHost(host, hosts) }, owner };
}

/** What Aqueduct owns on this machine: the listeners frontends may not take and members may not point at. */
export interface OwnAddresses {
  /** Aqueduct's and its HAProxy's own listeners (API, stats, metrics). */
  binds: readonly ReservedBind[];
  /** Further services no member may point at: a request relayed there would act as us (the registry's API). */
  services: readonly ReservedBind[];
  hosts: HostTable;
  /** This machine's interface addresses, canonical: a wildcard listener answers on each. */
  local: readonly string[];
}

export const NO_OWN_ADDRESSES: OwnAddresses = { binds: [], services: [], hosts: DEFAULT_HOSTS, local: [] };

/** Whether connecting to `target` (canonical) reaches a listener on `listen` (canonical), on one port. */
function reaches(target: string, listen: string, local: readonly string[]): boolean {
  // Connecting to 0.0.0.0 or [::] reaches this machine's loopback.
  const t = target === '*' ? '127.0.0.1' : target === '[::]' ? '[::1]' : target;
  if (t === listen) return true;
  const ours = isLoopback(t) || local.includes(t);
  if (listen === '[::]') return ours;
  if (listen === '*') return ours && !isV6(t);
  return false;
}

/** The owned address a member at host:port would connect to, or undefined when it reaches none. */
export function ownAddressReached(host: string, port: number, own: OwnAddresses): ReservedBind | undefined {
  const targets = hostMeanings(host, own.hosts);
  return [...own.binds, ...own.services].find(
    (r) => r.address.port === port && targets.some((t) => reaches(t, r.address.canonical, own.local)),
  );
}

/** Why a member at host:port may not be served (it would relay to one of Aqueduct's own addresses), if so. */
export function ownAddressProblem(host: string, port: number, own: OwnAddresses): string | undefined {
  const reached = ownAddressReached(host, port, own);
  if (reached === undefined) return undefined;
  return `member ${host}:${port} points at ${reached.address.text}, where ${reached.owner} listens: HAProxy would relay any client's request to it`;
}
