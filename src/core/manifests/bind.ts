// The bind field: "*:8080,127.0.0.1:80,[::1]:8443" → normalised listen addresses.

export interface BindAddress {
  /** '*' for every IPv4 address, otherwise the address as written ([v6] keeps its brackets). */
  address: string;
  port: number;
  /** As rendered on a bind line. */
  text: string;
  /** What the address means, for comparisons: 127.1, 0177.0.0.1 and localhost are all 127.0.0.1; [::] is '[::]'. */
  canonical: string;
}

const WILDCARDS = new Set(['', '*', '0.0.0.0']);

/**
 * The address a bind host means. IPv4 in any form inet_aton reads (127.1,
 * 0177.0.0.1, 0x7f.0.0.1, 2130706433) and IPv6 in any spelling come out as
 * one text, through the WHATWG URL parser (pure, and it reads them the same
 * way); `localhost` is 127.0.0.1, as /etc/hosts says first. Other names are
 * compared as written.
 */
export function canonicalHost(host: string): string {
  const h = host.toLowerCase();
  if (WILDCARDS.has(h)) return '*';
  if (h === 'localhost') return '127.0.0.1';
  try {
    const canonical = new URL(`http://${h}/`).hostname;
    return canonical === '[::]' || canonical === '0.0.0.0' ? (canonical === '[::]' ? '[::]' : '*') : canonical;
  } catch {
    return h;
  }
}

/** Splits a bind list that passed the schema; badPort names the first item whose port is out of range. */
export function parseBind(bind: string): { addresses: BindAddress[]; badPort?: string } {
  const addresses: BindAddress[] = [];
  for (const raw of bind.split(',')) {
    const item = raw.trim();
    const colon = item.lastIndexOf(':');
    const host = item.slice(0, colon);
    const portText = item.slice(colon + 1);
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { addresses, badPort: item };
    const address = WILDCARDS.has(host) ? '*' : host.toLowerCase();
    addresses.push({ address, port, text: `${address}:${port}`, canonical: canonicalHost(host) });
  }
  return { addresses };
}

/**
 * Whether two listen addresses would compete for the same socket: the same
 * address by meaning, or a wildcard covering the other ('*' every IPv4
 * address, '[::]' every address: HAProxy binds it dual-stack).
 */
export function bindsOverlap(a: BindAddress, b: BindAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.canonical === b.canonical) return true;
  if (a.canonical === '[::]' || b.canonical === '[::]') return true;
  const isV6 = (x: string): boolean => x.startsWith('[');
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

/** A reserved bind from host and port as an option gives them. */
export function reservedBind(hostOption: string, port: number, owner: string): ReservedBind {
  const host = hostOption.includes(':') && !hostOption.startsWith('[') ? `[${hostOption}]` : hostOption;
  const address = WILDCARDS.has(host) ? '*' : host.toLowerCase();
  return { address: { address, port, text: `${address}:${port}`, canonical: canonicalHost(host) }, owner };
}
