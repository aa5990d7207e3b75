// The seam every member source sits behind: a small interface (follow what
// the manifests subscribe to, report members and health), so the loop, the
// API and the deploys never know which source a backend names. The table
// that makes them is sources/member-sources.ts.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Registration } from '../core/manifests/model.js';
import type { RegistryStatus } from '../core/registry/registry-status.js';
import type { Subscription } from '../core/registry/subscription.js';

/** A source's health, as GET /status shows it (the registry's shape, which every source fills). */
export type SourceStatus = RegistryStatus;

export interface MemberSource {
  start(): void;
  stop(): Promise<void>;
  /**
   * What the manifests follow in this source now, at every run of the loop. A
   * source that resolves on demand (DNS) resolves exactly these; one that
   * receives everything (a registry) may ignore it.
   */
  follow(subscriptions: readonly Subscription[]): void;
  /** The instances of one service version, in a stable order. */
  members(name: string, version: string): readonly Registration[];
  status(): SourceStatus;
}

/** What every source is given: who to tell when membership changed, and what it may not accept. */
export interface SourceWiring {
  /** Membership changed: the loop reads members when it runs. */
  onChange(): void;
  /** Why an instance may not become a member (one at Aqueduct's own addresses), if so. */
  refuse?: (r: Registration) => string | undefined;
  log: Logger;
  clock: Clock;
}
