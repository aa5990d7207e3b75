// What a DNS answer means for a backend's members. Pure: the DNS source
// (sources/dns/) asks the resolver and passes the answers and errors in.
//
// An authoritative "no such name" (NXDOMAIN, or no SRV records) means no
// instances. Anything else that went wrong (SERVFAIL, refused, a timeout, a
// server that is down) says nothing about the instances: the last known
// members stay, as they do when the registry is unreachable.
import { compareStrings } from '../rendering/desired-state.js';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface AddressRecord {
  address: string;
  /** Seconds. */
  ttl: number;
}

/** The A and AAAA answers of one SRV target; undefined for a family the name has none of. */
export interface TargetAddresses {
  target: string;
  v4?: readonly AddressRecord[];
  v6?: readonly AddressRecord[];
}

export interface Endpoint {
  host: string;
  port: number;
}

export type DnsOutcome =
  { kind: 'members'; members: Endpoint[]; refreshMs: number } | { kind: 'keep'; error: string; refreshMs: number };

export interface RefreshBounds {
  minMs: number;
  maxMs: number;
}

/** Node's resolver error codes that mean "the name or its records do not exist": an answer, not a failure. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

export const isAbsent = (code: string | undefined): boolean => code !== undefined && ABSENT.has(code);

const clamp = (ms: number, b: RefreshBounds): number => Math.min(b.maxMs, Math.max(b.minMs, ms));

/** The records the answer serves from: the lowest priority present (higher ones are backups), ports above 0. */
export function activeRecords(records: readonly SrvRecord[]): SrvRecord[] {
  const usable = records.filter((r) => r.port > 0);
  const best = Math.min(...usable.map((r) => r.priority));
  return usable.filter((r) => r.priority === best);
}

/**
 * Members from an SRV answer and its targets' addresses: one per address and
 * port, sorted, refreshed after the shortest TTL seen (Node's resolver gives
 * none for SRV records themselves), within the bounds.
 */
export function membersOf(
  records: readonly SrvRecord[],
  targets: readonly TargetAddresses[],
  b: RefreshBounds,
): DnsOutcome {
  const byTarget = new Map(targets.map((t) => [t.target.toLowerCase(), t]));
  const members = new Map<string, Endpoint>();
  let ttl = Number.POSITIVE_INFINITY;
  for (const r of activeRecords(records)) {
    const t = byTarget.get(r.name.toLowerCase());
    for (const a of [...(t?.v4 ?? []), ...(t?.v6 ?? [])]) {
      members.set(`${a.address}\n${r.port}`, { host: a.address, port: r.port });
      ttl = Math.min(ttl, a.ttl * 1000);
    }
  }
  const sorted = [...members.values()].sort((x, y) => compareStrings(x.host, y.host) || x.port - y.port);
  return { kind: 'members', members: sorted, refreshMs: clamp(Number.isFinite(ttl) ? ttl : b.maxMs, b) };
}

/** The outcome of a query that threw: no instances when the name does not exist, else keep what was known. */
export function failureOf(name: string, code: string | undefined, message: string, b: RefreshBounds): DnsOutcome {
  if (isAbsent(code)) return { kind: 'members', members: [], refreshMs: b.minMs };
  return { kind: 'keep', error: `${name}: ${code ?? message}`, refreshMs: b.minMs };
}

export const sameEndpoints = (a: readonly Endpoint[], b: readonly Endpoint[]): boolean =>
  a.length === b.length && a.every((x, i) => x.host === b[i]?.host && x.port === b[i]?.port);
