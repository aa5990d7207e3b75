// Members from DNS SRV records (and the A/AAAA records they name), the way
// Kubernetes headless services, Consul and Nomad publish instances. Each
// followed SRV name is resolved again after its TTL (within bounds); an
// answer that changes the members tells the loop, which applies them through
// the runtime API. What an answer means is decided in core/registry/dns-answer.ts.
import { isIP } from 'node:net';
import type { Registration } from '../../core/manifests/model.js';
import {
  failureOf,
  isAbsent,
  membersOf,
  sameEndpoints,
  type AddressRecord,
  type DnsOutcome,
  type Endpoint,
  type RefreshBounds,
  type SrvRecord,
  type TargetAddresses,
} from '../../core/registry/dns-answer.js';
import { registrationId } from '../../core/registry/members.js';
import { srvName, type Subscription } from '../../core/registry/subscription.js';
import type { MemberSource, SourceStatus, SourceWiring } from '../member-source.js';

/** The part of Node's dns.promises.Resolver the source uses (a fake in unit tests). */
export interface DnsResolver {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolve4(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  resolve6(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
}

export interface DnsSourceOptions extends SourceWiring {
  resolver: DnsResolver;
  bounds: RefreshBounds;
}

interface Followed {
  endpoints: Endpoint[];
  /** Set once an answer came: before it, the name has no members yet. */
  answered: boolean;
  lastError: string | null;
  cancel: () => void;
}

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

export class DnsSource implements MemberSource {
  private readonly followed = new Map<string, Followed>();
  private lastSync: string | null = null;
  private stopped = false;

  constructor(private readonly opts: DnsSourceOptions) {}

  start(): void {}

  async stop(): Promise<void> {
    this.stopped = true;
    for (const f of this.followed.values()) f.cancel();
    this.followed.clear();
  }

  follow(subscriptions: readonly Subscription[]): void {
    const wanted = new Set(subscriptions.filter((s) => s.source === 'dns').map(srvName));
    for (const [name, f] of this.followed)
      if (!wanted.has(name)) {
        f.cancel();
        this.followed.delete(name);
      }
    for (const name of wanted)
      if (!this.followed.has(name) && !this.stopped) {
        this.followed.set(name, { endpoints: [], answered: false, lastError: null, cancel: () => undefined });
        void this.refresh(name);
      }
  }

  members(name: string, version: string): readonly Registration[] {
    const f = this.followed.get(srvName({ name, version }));
    if (f === undefined) return [];
    return f.endpoints.flatMap((e) => {
      const r = { name, version, host: e.host, port: e.port, lastKnown: 0, meta: { source: 'dns' } };
      const registration = { ...r, id: registrationId(r) };
      return this.opts.refuse?.(registration) === undefined ? [registration] : [];
    });
  }

  status(): SourceStatus {
    const all = [...this.followed.values()];
    const failing = all.filter((f) => f.lastError !== null);
    return {
      kind: 'dns',
      connected: failing.length === 0,
      lastSync: this.lastSync,
      lastError: failing[0]?.lastError ?? null,
      instances: all.reduce((n, f) => n + f.endpoints.length, 0),
      graced: failing.filter((f) => f.answered).length,
    };
  }

  private async refresh(name: string): Promise<void> {
    const outcome = await this.query(name);
    const f = this.followed.get(name);
    if (f === undefined || this.stopped) return;
    if (outcome.kind === 'keep') {
      if (f.lastError === null) this.opts.log.warn({ name, err: outcome.error }, 'DNS: keeping the last known members');
      f.lastError = outcome.error;
    } else {
      f.lastError = null;
      this.lastSync = new Date(this.opts.clock.now()).toISOString();
      const changed = !f.answered || !sameEndpoints(f.endpoints, outcome.members);
      f.endpoints = outcome.members;
      f.answered = true;
      if (changed) {
        this.opts.log.info({ name, members: outcome.members.length }, 'DNS: members changed');
        this.opts.onChange();
      }
    }
    f.cancel = this.opts.clock.after(outcome.refreshMs, () => void this.refresh(name));
  }

  private async query(name: string): Promise<DnsOutcome> {
    const { resolver, bounds } = this.opts;
    let records: SrvRecord[];
    try {
      records = await resolver.resolveSrv(name);
    } catch (err) {
      return failureOf(name, codeOf(err), (err as Error).message, bounds);
    }
    try {
      const targets = await Promise.all(records.map((r) => this.addresses(r.name)));
      return membersOf(records, targets, bounds);
    } catch (err) {
      return failureOf(`${name} (a target's address)`, codeOf(err) ?? 'EFAILED', (err as Error).message, bounds);
    }
  }

  /** A target's A and AAAA records; a family it has none of is empty, any other failure fails the whole answer. */
  private async addresses(target: string): Promise<TargetAddresses> {
    if (isIP(target) !== 0) return { target, [isIP(target) === 4 ? 'v4' : 'v6']: [{ address: target, ttl: Infinity }] };
    const family = async (ask: () => Promise<AddressRecord[]>): Promise<AddressRecord[]> =>
      ask().catch((err: unknown) => {
        if (isAbsent(codeOf(err))) return [];
        throw err;
      });
    const [v4, v6] = await Promise.all([
      family(() => this.opts.resolver.resolve4(target, { ttl: true })),
      family(() => this.opts.resolver.resolve6(target, { ttl: true })),
    ]);
    return { target, v4, v6 };
  }
}
