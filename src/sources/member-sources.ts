// The member sources a run has, made from its options by one table. To add
// a source (Kubernetes EndpointSlices, Consul's API, etcd...): write it under
// sources/<kind>/ implementing MemberSource, add its kind to the `source`
// enum of schemas/backend.schema.json, and one line to SOURCE_KINDS.
import { Resolver } from 'node:dns/promises';
import type { RunConfig } from '../config.js';
import type { Registration } from '../core/manifests/model.js';
import type { RegistryStatus } from '../core/registry/registry-status.js';
import type { SourceKind, Subscription } from '../core/registry/subscription.js';
import { DnsSource } from './dns/dns-source.js';
import type { MemberSource, SourceStatus } from './member-source.js';
import { createRegistrySource, type RegistryWiring } from './registry/create-registry.js';
import { noRegistry } from './registry/registry-source.js';

type SourceFactory = (config: RunConfig, wiring: RegistryWiring) => MemberSource | undefined;

/** Each kind a backend may name, and how a run makes it (undefined: not configured in this run). */
const SOURCE_KINDS: Record<SourceKind, SourceFactory> = {
  thalassa: (config, wiring) => (config.registry === 'thalassa' ? createRegistrySource(config, wiring) : undefined),
  socketio: (config, wiring) => (config.registry === 'socketio' ? createRegistrySource(config, wiring) : undefined),
  dns: (config, wiring) => new DnsSource({ ...wiring, resolver: resolverFor(config), bounds: dnsBounds(config) }),
};

function resolverFor(config: Pick<RunConfig, 'dnsServer'>): Resolver {
  // Two tries of 2 s: an unanswered query is a failure (the members stay), not a hang.
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (config.dnsServer !== undefined) resolver.setServers([config.dnsServer]);
  return resolver;
}

const dnsBounds = (config: Pick<RunConfig, 'dnsMinRefresh' | 'dnsMaxRefresh'>) => ({
  minMs: Math.max(100, config.dnsMinRefresh),
  maxMs: Math.max(config.dnsMinRefresh, config.dnsMaxRefresh),
});

/** Every source of a run behind one lookup: a backend's subscription goes to the source it names. */
export class MemberSources {
  private constructor(
    private readonly byKind: ReadonlyMap<SourceKind, MemberSource>,
    /** The kind --registry runs: what a backend that names no source follows. */
    private readonly registryKind: SourceKind | undefined,
  ) {}

  static create(config: RunConfig, wiring: RegistryWiring): MemberSources {
    const byKind = new Map<SourceKind, MemberSource>();
    for (const [kind, make] of Object.entries(SOURCE_KINDS) as [SourceKind, SourceFactory][]) {
      const source = make(config, wiring);
      if (source !== undefined) byKind.set(kind, source);
    }
    return new MemberSources(byKind, config.registry === 'none' ? undefined : config.registry);
  }

  private sourceOf(kind: Subscription['source']): MemberSource | undefined {
    const k = kind === 'registry' ? this.registryKind : kind;
    return k === undefined ? undefined : this.byKind.get(k);
  }

  members(sub: Subscription): readonly Registration[] {
    return this.sourceOf(sub.source)?.members(sub.name, sub.version) ?? [];
  }

  /** What the manifests follow now, each part to its source. */
  follow(subscriptions: readonly Subscription[]): void {
    for (const [kind, source] of this.byKind)
      source.follow(subscriptions.filter((s) => (s.source === 'registry' ? this.registryKind : s.source) === kind));
  }

  start(): void {
    for (const s of this.byKind.values()) s.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byKind.values()].map((s) => s.stop()));
  }

  /** The registry --registry runs (kind none without one), as GET /status and self-registration know it. */
  registryStatus(): RegistryStatus {
    return (
      (this.registryKind === undefined ? undefined : this.byKind.get(this.registryKind))?.status() ??
      noRegistry.status()
    );
  }

  /** Every source of the run, by kind. */
  statuses(): Partial<Record<SourceKind, SourceStatus>> {
    return Object.fromEntries([...this.byKind].map(([kind, s]) => [kind, s.status()]));
  }
}
