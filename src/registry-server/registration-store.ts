// The embedded registry's store: Thalassa's semantics (a registration is
// `{name, version, host, port, lastKnown, meta, id}`, re-registering is a
// check-in, each lives until its time to live runs out) without Redis.
// Pure: the server passes the time in and publishes what this returns.
import { compareStrings } from '../core/rendering/desired-state.js';
import type { Registration } from '../core/manifests/model.js';
import { parseRegistration } from '../core/registry/members.js';

export interface StoredRegistration {
  registration: Registration;
  /** ms since the epoch after which it is gone. */
  expiresAt: number;
}

/** What one registrant may take of the store: anyone reaching the registry may register. */
export interface StoreLimits {
  maxRegistrations: number;
  /** The longest time to live a registration may ask for (secondsToExpire), seconds. */
  maxTtlSeconds: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = { maxRegistrations: 10_000, maxTtlSeconds: 86_400 };

export class RegistrationStore {
  private readonly byId = new Map<string, StoredRegistration>();

  constructor(
    private readonly defaultTtlSeconds: number,
    private readonly limits: StoreLimits = DEFAULT_STORE_LIMITS,
  ) {}

  /**
   * Registers or checks in an instance; the body is its meta, and its
   * `secondsToExpire` (as in Thalassa) sets the time to live.
   */
  register(
    fields: { name: string; version: string; host: string; port: number },
    body: Record<string, unknown>,
    now: number,
  ): { registration?: Registration; problem?: string; full?: boolean } {
    const asked = body['secondsToExpire'];
    const ttl =
      typeof asked === 'number' && Number.isFinite(asked) && asked > 0
        ? Math.min(asked, this.limits.maxTtlSeconds)
        : this.defaultTtlSeconds;
    const parsed = parseRegistration({ ...fields, lastKnown: now, meta: { ...body, hostname: fields.host } });
    if (parsed.registration === undefined) return parsed;
    if (!this.byId.has(parsed.registration.id) && this.byId.size >= this.limits.maxRegistrations)
      return { problem: `the registry holds its maximum of ${this.limits.maxRegistrations} registrations`, full: true };
    this.byId.set(parsed.registration.id, { registration: parsed.registration, expiresAt: now + ttl * 1000 });
    return parsed;
  }

  deregister(id: string): boolean {
    return this.byId.delete(id);
  }

  /** Removes what expired; returns their ids (each to be published offline). */
  reap(now: number): string[] {
    const gone: string[] = [];
    for (const [id, s] of this.byId) {
      if (s.expiresAt <= now) {
        this.byId.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  list(name?: string, version?: string): Registration[] {
    return [...this.byId.values()]
      .map((s) => s.registration)
      .filter((r) => (name === undefined || r.name === name) && (version === undefined || r.version === version))
      .sort((a, b) => compareStrings(a.id, b.id));
  }

  /** Everything, for persisting. */
  dump(): StoredRegistration[] {
    return [...this.byId.values()];
  }

  /** Loads a dump; entries that no longer validate are skipped. Returns how many were loaded. */
  load(entries: readonly unknown[]): number {
    let loaded = 0;
    for (const e of entries) {
      const entry = e as Partial<StoredRegistration> | null;
      const parsed = parseRegistration(entry?.registration);
      if (parsed.registration === undefined || typeof entry?.expiresAt !== 'number') continue;
      this.byId.set(parsed.registration.id, { registration: parsed.registration, expiresAt: entry.expiresAt });
      loaded++;
    }
    return loaded;
  }
}
