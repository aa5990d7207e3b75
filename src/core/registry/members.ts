// What Aqueduct knows of the registry: a snapshot of registrations, changed
// by events (hints) and by full lists (the truth). Pure: the sources feed it
// parsed messages and the time; it says whether membership changed.
//
// Membership is what HAProxy sees: the set of (name, version, host, port).
// A check-in re-publishes "online" with a new lastKnown every few seconds;
// that is not a change and must cause no work.
import { compareStrings } from '../rendering/desired-state.js';
import { formatIssue } from '../issues.js';
import type { RolloutPosition } from '../deploy/rollout.js';
import { splitMembers, trafficSplit } from '../deploy/versions.js';
import type { BackendManifest, Member, MemberMap, Registration } from '../manifests/model.js';
import { validateRegistration } from '../manifests/schema-validation.js';
import { registrationTooLarge } from './registration-limits.js';
import {
  atVersion,
  describeSubscription,
  subscriptionOf,
  type MemberLookup,
  type Subscription,
} from './subscription.js';

export const registrationId = (r: Pick<Registration, 'name' | 'version' | 'host' | 'port'>): string =>
  `/${r.name}/${r.version}/${r.host}/${r.port}`;

/** A registration from a registry message, or why it was refused. */
export function parseRegistration(raw: unknown): { registration?: Registration; problem?: string } {
  const tooLarge = registrationTooLarge(raw);
  if (tooLarge !== undefined) return { problem: `the registration is refused: ${tooLarge}` };
  const v = validateRegistration(raw);
  if (v.value === undefined) return { problem: v.issues.map(formatIssue).join('; ') };
  const r = v.value;
  const registration: Registration = {
    name: r.name,
    version: r.version,
    host: r.host,
    port: r.port,
    lastKnown: r.lastKnown,
    meta: r.meta,
    id: registrationId(r),
  };
  return { registration };
}

export interface SnapshotOptions {
  /** How long an instance missing from full lists is kept, ms: a registry restarted empty must not empty backends. */
  graceMs: number;
}

export class RegistrySnapshot {
  private readonly byId = new Map<string, Registration>();
  /** When each known instance was first missing from a full list. */
  private readonly missingSince = new Map<string, number>();
  /**
   * Instances by name and version, built on the first lookup after a change:
   * one reconcile looks up every dynamic backend's versions (members, empty
   * subscriptions, rollout targets), and each lookup used to sort them all.
   */
  private byService: Map<string, Registration[]> | undefined;

  constructor(private readonly opts: SnapshotOptions) {}

  /** An instance is online (registered or checked in). True when membership changed. */
  online(r: Registration): boolean {
    this.missingSince.delete(r.id);
    const had = this.byId.has(r.id);
    this.byId.set(r.id, r);
    this.byService = undefined;
    return !had;
  }

  /** An explicit offline (deregistered, or expired by the registry's TTL). True when membership changed. */
  offline(id: string): boolean {
    this.missingSince.delete(id);
    this.byService = undefined;
    return this.byId.delete(id);
  }

  /**
   * A full list from the registry. Listed instances are online; an instance
   * missing from the list leaves only once it has been missing for the grace
   * period. True when membership changed.
   */
  list(registrations: readonly Registration[], now: number): boolean {
    let changed = false;
    const listed = new Set<string>();
    for (const r of registrations) {
      listed.add(r.id);
      if (this.online(r)) changed = true;
    }
    for (const id of [...this.byId.keys()]) {
      if (listed.has(id)) continue;
      const since = this.missingSince.get(id) ?? now;
      this.missingSince.set(id, since);
      if (now - since >= this.opts.graceMs) {
        this.offline(id);
        changed = true;
      }
    }
    return changed;
  }

  /** Instances missing from the last list but kept within the grace period. */
  graced(): number {
    return this.missingSince.size;
  }

  all(): Registration[] {
    return [...this.byId.values()].sort((a, b) => compareStrings(a.id, b.id));
  }

  /** Every instance registered under this exact name and version, in a stable order. */
  registrations(name: string, version: string): readonly Registration[] {
    if (this.byService === undefined) {
      this.byService = new Map();
      for (const r of this.all()) {
        const key = `${r.name}\n${r.version}`;
        const list = this.byService.get(key);
        if (list === undefined) this.byService.set(key, [r]);
        else list.push(r);
      }
    }
    return this.byService.get(`${name}\n${version}`) ?? [];
  }
}

/**
 * Members of every dynamic backend from a lookup of registrations, across
 * the versions it routes to (see trafficSplit), weighted by version share.
 */
export function memberMapFor(
  backends: readonly BackendManifest[],
  members: MemberLookup,
  rolloutOf: (backend: string) => RolloutPosition | undefined = () => undefined,
): MemberMap {
  const out: Record<string, Member[]> = {};
  for (const b of backends) {
    const sub = subscriptionOf(b);
    if (sub === undefined) continue;
    const split = trafficSplit(b.spec, rolloutOf(b.metadata.name));
    out[b.metadata.name] = splitMembers(split, (version) => members(atVersion(sub, version)));
  }
  return out;
}

/** Every subscription the backends route a share to (or may: a rollout's target), for sources that resolve on demand. */
export function subscriptionsOf(
  backends: readonly BackendManifest[],
  rolloutOf: (backend: string) => RolloutPosition | undefined = () => undefined,
): Subscription[] {
  return backends.flatMap((b) => {
    const sub = subscriptionOf(b);
    if (sub === undefined) return [];
    const versions = new Set(trafficSplit(b.spec, rolloutOf(b.metadata.name)).map((v) => v.version));
    for (const v of [sub.version, ...(b.spec.versions ?? []).map((x) => x.version), b.spec.rollout?.to])
      if (v !== undefined) versions.add(v);
    return [...versions].map((v) => atVersion(sub, v));
  });
}

/**
 * The subscriptions a dynamic backend routes a share to that have no
 * instances, as name@version: what a switch to nothing lacks.
 */
export function emptySubscriptions(
  b: BackendManifest,
  members: MemberLookup,
  rolloutOf: (backend: string) => RolloutPosition | undefined = () => undefined,
): string[] {
  const sub = subscriptionOf(b);
  if (sub === undefined) return [];
  return trafficSplit(b.spec, rolloutOf(b.metadata.name))
    .filter((v) => v.weight > 0 && members(atVersion(sub, v.version)).length === 0)
    .map((v) => describeSubscription(atVersion(sub, v.version)));
}

/** A Thalassa event after decoding: `[regId, 'online', registrationJson]` or `[regId, 'offline']`. */
export type RegistryEvent = { kind: 'online'; registration: Registration } | { kind: 'offline'; id: string };

/** Reads an event from its message parts; a malformed one is a problem, never an exception. */
export function parseEvent(parts: readonly unknown[]): { event?: RegistryEvent; problem?: string } {
  const [id, kind, payload] = parts;
  if (typeof id !== 'string') return { problem: 'the first part (registration id) is not a string' };
  if (kind === 'offline') return { event: { kind: 'offline', id } };
  if (kind !== 'online') return { problem: `unknown event ${JSON.stringify(kind)}` };
  let raw: unknown = payload;
  if (typeof payload === 'string') {
    try {
      raw = JSON.parse(payload);
    } catch {
      return { problem: 'the online registration is not JSON' };
    }
  }
  const { registration, problem } = parseRegistration(raw);
  if (registration === undefined) return { problem: `online ${id}: ${problem ?? 'invalid'}` };
  return { event: { kind: 'online', registration } };
}
