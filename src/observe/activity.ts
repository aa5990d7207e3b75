// The activity feed, as the original's: what happened, in order, for the
// stream. Registry online/offline, config changed, reloaded, apply failed.
import type { Clock } from '../clock.js';
import type { ApplyRecord } from '../core/planning/ledger.js';
import type { HaproxyEvent } from '../haproxy/process.js';
import type { DeployEvent } from '../reconcile/deploys.js';

export interface Activity {
  event:
    | 'registry-online'
    | 'registry-offline'
    | 'registry-connected'
    | 'registry-disconnected'
    | 'config-changed'
    | 'reloaded'
    | 'apply-failed'
    | `rollout-${'started' | 'advanced' | 'aborted' | 'complete' | 'removed'}`
    | `gate-${'waiting' | 'timed-out' | 'passed'}`
    | `haproxy-${'exited' | 'back'}`;
  at: string;
  [detail: string]: unknown;
}

export type ActivityListener = (a: Activity) => void;

export class ActivityFeed {
  private readonly listeners = new Set<ActivityListener>();
  private readonly recent: Activity[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly keep = 100,
  ) {}

  publish(event: Activity['event'], detail: Record<string, unknown> = {}): void {
    const a: Activity = { event, at: new Date(this.clock.now()).toISOString(), ...detail };
    this.recent.push(a);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.listeners) l(a);
  }

  /** A ledger entry: what changed, a reload, a failure; nothing for a quiet look. */
  apply(r: ApplyRecord): void {
    if (r.result === 'ok' && r.plan !== 'noop')
      this.publish('config-changed', { apply: r.id, plan: r.plan, reasons: r.reasons, durationMs: r.durationMs });
    if (r.result === 'ok' && r.plan === 'reload') this.publish('reloaded', { apply: r.id, workerPid: r.workerPid });
    if (r.result === 'failed' || r.result === 'rejected')
      this.publish('apply-failed', { apply: r.id, result: r.result, error: r.error });
  }

  /** A rollout moving or a health gate changing. */
  deploy(e: DeployEvent): void {
    const detail = { backend: e.backend, message: e.message };
    if (e.type === 'rollout') this.publish(`rollout-${e.event}`, { ...detail, position: e.position });
    else this.publish(`gate-${e.event}`, { ...detail, gate: e.gate });
  }

  /** HAProxy going away outside a reload, or coming back. */
  haproxy(e: HaproxyEvent): void {
    this.publish(`haproxy-${e.type}`, { message: e.message });
  }

  /** A registry event; only members coming and going that changed something are worth a line. */
  registryEvent(type: string, e: { id?: string; changed: boolean }): void {
    if (e.changed && (type === 'online' || type === 'offline')) this.publish(`registry-${type}`, { id: e.id });
  }

  registryConnection(connected: boolean, reason?: string): void {
    this.publish(connected ? 'registry-connected' : 'registry-disconnected', reason === undefined ? {} : { reason });
  }

  /** The last activities, oldest first. */
  history(): readonly Activity[] {
    return this.recent;
  }

  subscribe(listener: ActivityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
