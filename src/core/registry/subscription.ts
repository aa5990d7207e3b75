// What a dynamic backend follows: a member source (the registry --registry
// runs, or DNS), a name in that source and a version. Pure.
import type { BackendManifest, Registration } from '../manifests/model.js';

/** The member sources a backend may name in spec.source; absent means the registry --registry runs. */
export type SourceKind = NonNullable<BackendManifest['spec']['source']>;

export interface Subscription {
  /** The source's kind; `registry` when the backend names none (thalassa or socketio, as --registry says). */
  source: SourceKind | 'registry';
  /** The service's name in its source: a Thalassa service name, or a DNS SRV name (with {version}). */
  name: string;
  version: string;
}

/** The instances a source has for one subscription, in a stable order. */
export type MemberLookup = (sub: Subscription) => readonly Registration[];

/** The subscription of a dynamic backend at its version; undefined for a static one. */
export function subscriptionOf(b: BackendManifest): Subscription | undefined {
  const { type, name, service, version, source } = b.spec;
  if (type !== 'dynamic' || version === undefined) return undefined;
  if (source === 'dns') return service === undefined ? undefined : { source, name: service, version };
  return name === undefined ? undefined : { source: source ?? 'registry', name, version };
}

/** The same subscription at another version (a split's, a rollout's target). */
export const atVersion = (sub: Subscription, version: string): Subscription => ({ ...sub, version });

/** The SRV name a DNS subscription resolves: its service with {version} replaced. */
export const srvName = (sub: Pick<Subscription, 'name' | 'version'>): string =>
  sub.name.replaceAll('{version}', sub.version);

/** How a subscription is named to a person: myapp@1.0.0, or the SRV name for DNS. */
export const describeSubscription = (sub: Subscription): string =>
  sub.source === 'dns' ? `SRV ${srvName(sub)}` : `${sub.name}@${sub.version}`;
