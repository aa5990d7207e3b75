// The activity feed, as the original's: what happened, in order, for the
// stream. Registry online/offline, config changed, reloaded, apply failed.
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

  constructor(private readonly keep = 100) {}

  publish(event: Activity['event'], detail: Record<string, unknown> = {}): void {
    const a: Activity = { event, at: new Date().toISOString(), ...detail };
    this.recent.push(a);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.listeners) l(a);
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
