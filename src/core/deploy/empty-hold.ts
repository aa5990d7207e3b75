// No switch to nothing. A dynamic backend that serves traffic now and whose
// next state has no server to send it to (a version nobody registered, a
// typo, a rollout target with no instances) keeps its current servers until
// servers appear, and says so; `allowEmpty: true` is how an operator asks
// for an empty backend on purpose. Static backends are what they list (an
// empty list included); their switches to servers that fail their checks
// are the health gate's (health-gate.ts). Pure.
import type { DesiredServer, DesiredState } from '../rendering/desired-state.js';

export interface EmptyHold {
  backend: string;
  /** True when the switch would leave no server and the current ones are kept; false for a share with no instances. */
  empty: boolean;
  /** For the status, the ledger and the log: what is missing, and that the current servers keep serving. */
  message: string;
}

export interface HoldInput {
  desired: DesiredState;
  /** What HAProxy serves now; undefined before the first apply (nothing to hold on to). */
  applied: DesiredState | undefined;
  /** Dynamic backends that may not be emptied (those without allowEmpty). */
  guarded: ReadonlySet<string>;
  /** The subscriptions of a backend's split that have no instances, e.g. ["myapp@1.0.1"]. */
  missing(backend: string): readonly string[];
}

const serving = (s: DesiredServer): boolean => s.weight === undefined || s.weight > 0;

/** The state to serve: the desired one, with every guarded backend that would be emptied kept at its servers. */
export function holdEmptySwitches(input: HoldInput): { state: DesiredState; holds: EmptyHold[] } {
  const holds: EmptyHold[] = [];
  const backends = input.desired.backends.map((b) => {
    if (!input.guarded.has(b.name)) return b;
    const missing = input.missing(b.name);
    if (b.servers.some(serving)) {
      // A split or rollout whose other versions have instances: served, but not as declared.
      if (missing.length > 0)
        holds.push({
          backend: b.name,
          empty: false,
          message: `held: no instances of ${missing.join(', ')}; its share goes to the other versions until instances register`,
        });
      return b;
    }
    const before = input.applied?.backends.find((a) => a.name === b.name);
    if (before === undefined || !before.servers.some(serving)) return b;
    const what = missing.length > 0 ? `no instances of ${missing.join(', ')}` : 'no servers to switch to';
    holds.push({
      backend: b.name,
      empty: true,
      message: `held: ${what}; its current ${before.servers.length} server(s) keep serving until instances register (allowEmpty: true empties it on purpose)`,
    });
    return { ...b, servers: before.servers };
  });
  return { state: { frontends: input.desired.frontends, backends }, holds };
}
