// The bind field: "*:8080,127.0.0.1:80,[::1]:8443" → normalised listen addresses.

export interface BindAddress {
  /** '*' for every IPv4 address, otherwise the address as written ([v6] keeps its brackets). */
  address: string;
  port: number;
  /** As rendered on a bind line. */
  text: string;
}

const WILDCARDS = new Set(['', '*', '0.0.0.0']);

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
    addresses.push({ address, port, text: `${address}:${port}` });
  }
  return { addresses };
}

/** Whether two listen addresses would compete for the same socket. */
export function bindsOverlap(a: BindAddress, b: BindAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.address === b.address) return true;
  const isV6 = (x: string): boolean => x.startsWith('[');
  // An IPv4 wildcard overlaps every IPv4 address on the port; [::] every IPv6 one.
  if (a.address === '*' && !isV6(b.address)) return true;
  if (b.address === '*' && !isV6(a.address)) return true;
  if (a.address === '[::]' && isV6(b.address)) return true;
  if (b.address === '[::]' && isV6(a.address)) return true;
  return false;
}
