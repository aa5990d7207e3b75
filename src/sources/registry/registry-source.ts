// The registry as the loop sees it: a snapshot of registrations kept in step
// with a Thalassa-compatible registry. The full list over HTTP is the truth
// (on start, on every reconnect, and every poll interval); events are hints
// that make the list change sooner. Transports (Thalassa's axon socket,
// socket.io) only deliver events and say when they are connected.
import type { Logger } from 'pino';
import { every, type Clock } from '../../clock.js';
import type { Registration } from '../../core/manifests/model.js';
import { registryRequest } from './registry-http.js';
import { parseEvent, parseRegistration, RegistrySnapshot, type RegistryEvent } from '../../core/registry/members.js';
import type { RegistryStatus } from '../../core/registry/registry-status.js';
import type { MemberSource } from '../member-source.js';

/** A Thalassa-protocol registry (thalassa or socketio) is a member source that is sent everything: it follows all. */
export type RegistrySource = MemberSource;

/** An event transport: connects, delivers message parts, says when it (dis)connects. */
export interface EventTransport {
  connect(handlers: { message(parts: unknown[]): void; connected(): void; disconnected(reason: string): void }): void;
  close(): Promise<void>;
}

/** Who hears about registry events (metrics, the activity feed). */
export interface RegistryObserver {
  event(type: 'online' | 'offline' | 'list' | 'invalid', detail: { id?: string; changed: boolean }): void;
  connection(connected: boolean, reason?: string): void;
}

export interface SnapshotSourceOptions {
  kind: string;
  /** Base URL of the registry's HTTP API, e.g. http://127.0.0.1:9000 */
  apiUrl: string;
  pollIntervalMs: number;
  graceMs: number;
  transport: EventTransport;
  /** Called when membership changed. */
  onChange(): void;
  /** Why a registration may not become a member (it points at one of Aqueduct's own addresses), if so. */
  refuse?: (r: Registration) => string | undefined;
  observer?: RegistryObserver;
  log: Logger;
  clock: Clock;
}

/** No registry: dynamic backends have no members. */
export const noRegistry: RegistrySource = {
  start: () => undefined,
  stop: async () => undefined,
  follow: () => undefined,
  members: () => [],
  status: () => ({ kind: 'none', connected: false, lastSync: null, lastError: null, instances: 0, graced: 0 }),
};

export class SnapshotRegistrySource implements RegistrySource {
  private readonly snapshot: RegistrySnapshot;
  private connected = false;
  private lastSync: string | null = null;
  private lastError: string | null = null;
  private stopPolling: (() => void) | undefined;
  private stopped = false;
  private listing: Promise<void> | undefined;
  private reportedDown = false;

  constructor(private readonly opts: SnapshotSourceOptions) {
    this.snapshot = new RegistrySnapshot({ graceMs: opts.graceMs });
  }

  start(): void {
    const { log, kind } = this.opts;
    this.opts.transport.connect({
      message: (parts) => this.onMessage(parts),
      connected: () => {
        this.connected = true;
        this.reportedDown = false;
        this.opts.observer?.connection(true);
        log.info({ registry: kind, api: this.opts.apiUrl }, 'registry events connected');
        void this.refresh(); // events sent while we were away are lost: the list has them (refresh never rejects)
      },
      disconnected: (reason) => {
        if (this.stopped) return; // our own close on the way out is no outage
        const was = this.connected;
        this.connected = false;
        this.lastError = reason;
        if (was) this.opts.observer?.connection(false, reason);
        // Once per outage, not once per retry: a down registry must not flood the log.
        if (!this.reportedDown)
          log.warn(
            { registry: kind, reason, instances: this.snapshot.all().length },
            'registry unreachable; keeping the last known members and retrying',
          );
        this.reportedDown = true;
      },
    });
    void this.refresh();
    this.stopPolling = every(this.opts.clock, this.opts.pollIntervalMs, () => void this.refresh());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPolling?.();
    await this.opts.transport.close();
    await this.listing;
  }

  /** Every instance is sent to a registry's listeners: there is nothing to subscribe to. */
  follow(): void {}

  members(name: string, version: string): readonly Registration[] {
    return this.snapshot.registrations(name, version);
  }

  status(): RegistryStatus {
    return {
      kind: this.opts.kind,
      connected: this.connected,
      lastSync: this.lastSync,
      lastError: this.lastError,
      instances: this.snapshot.all().length,
      graced: this.snapshot.graced(),
    };
  }

  /** Reads the full list; one at a time (a slow registry must not pile up requests). Never rejects. */
  refresh(): Promise<void> {
    this.listing ??= this.readList()
      .catch((err: unknown) => this.survived('reading the registration list', err))
      .finally(() => {
        this.listing = undefined;
      });
    return this.listing;
  }

  /** Whatever a registry sends, Aqueduct stays up: the error is logged and the last members kept. */
  private survived(what: string, err: unknown): void {
    this.lastError = `${what}: ${(err as Error).message}`;
    this.opts.log.error(
      { registry: this.opts.kind, err: (err as Error).message },
      `${what} failed; keeping the last known members`,
    );
    this.opts.observer?.event('invalid', { changed: false });
  }

  /** A registration from the registry's words, or undefined (with a warning and a count) when it cannot be used. */
  private accept(raw: unknown): Registration | undefined {
    const { registration, problem } = parseRegistration(raw);
    const refused = registration === undefined ? problem : this.opts.refuse?.(registration);
    if (registration !== undefined && refused === undefined) return registration;
    this.dropped('ignoring an invalid registration', refused);
    return undefined;
  }

  /** A registration or message that cannot be used: a warning and a count, nothing else changes. */
  private dropped(what: string, problem: string | undefined): void {
    this.opts.log.warn({ registry: this.opts.kind, problem }, what);
    this.opts.observer?.event('invalid', { changed: false });
  }

  private async readList(): Promise<void> {
    if (this.stopped) return;
    const { log, kind } = this.opts;
    let raw: unknown;
    try {
      const res = await registryRequest('GET', `${this.opts.apiUrl}/registrations`);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      raw = JSON.parse(res.body);
    } catch (err) {
      this.lastError = `listing registrations: ${(err as Error).message}`;
      return; // keep what we have: an unreachable registry never empties a backend
    }
    if (!Array.isArray(raw)) {
      this.lastError = 'listing registrations: the answer is not an array';
      log.warn({ registry: kind }, this.lastError);
      return;
    }
    const registrations = raw.map((item) => this.accept(item)).filter((r): r is Registration => r !== undefined);
    if (this.stopped) return;
    const now = this.opts.clock.now();
    this.lastSync = new Date(now).toISOString();
    const changed = this.snapshot.list(registrations, now);
    this.opts.observer?.event('list', { changed });
    if (changed) this.changed('list');
  }

  private onMessage(parts: unknown[]): void {
    try {
      this.handle(parts);
    } catch (err) {
      this.survived('a registry message', err);
    }
  }

  private handle(parts: unknown[]): void {
    const { event, problem } = parseEvent(parts);
    const refused = event?.kind === 'online' ? this.opts.refuse?.(event.registration) : undefined;
    if (refused !== undefined) return this.dropped('ignoring an invalid registration', refused);
    if (event === undefined) return this.dropped('ignoring an invalid registry message', problem);
    const changed = this.apply(event);
    const id = event.kind === 'online' ? event.registration.id : event.id;
    this.opts.observer?.event(event.kind, { id, changed });
    if (changed) this.changed(event.kind);
  }

  private apply(event: RegistryEvent): boolean {
    return event.kind === 'online' ? this.snapshot.online(event.registration) : this.snapshot.offline(event.id);
  }

  private changed(why: string): void {
    this.opts.log.debug({ registry: this.opts.kind, why }, 'registry membership changed');
    this.opts.onChange();
  }
}
