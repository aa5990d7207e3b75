// The health-gated switch. When a backend with a health check would move its
// traffic to servers none of which serves now (a version switch, a disjoint
// member swap), the new servers are added at weight 0 and the old ones keep
// serving until at least one new server has passed a check in HAProxy. Past
// the timeout this is reported, and the old servers still keep serving: an
// unhealthy version never takes the traffic away. Pure: the caller reads
// HAProxy's check results and the time.
import {
  compareStrings,
  type DesiredBackend,
  type DesiredServer,
  type DesiredState,
} from '../rendering/desired-state.js';
import type { GateStatus } from '../manifests/api-shapes.js';

export interface GateInput {
  desired: DesiredState;
  /** What HAProxy serves now (the last applied state); undefined before the first apply. */
  applied: DesiredState | undefined;
  /** Backends whose servers have a health check. */
  gated: ReadonlySet<string>;
  /** Whether HAProxy reports that this server's last check passed. */
  passed(backend: string, server: string): boolean;
  /** Gates open before this look, by backend. */
  open: ReadonlyMap<string, GateStatus>;
  now: number;
  timeoutMs: number;
}

const serving = (s: DesiredServer): boolean => s.weight === undefined || s.weight > 0;
const byAddress = (a: DesiredServer, b: DesiredServer): number => compareStrings(a.host, b.host) || a.port - b.port;

function gateBackend(
  b: DesiredBackend,
  before: DesiredBackend | undefined,
  input: GateInput,
): { backend: DesiredBackend; gate?: GateStatus } {
  if (!input.gated.has(b.name) || before === undefined) return { backend: b };
  const servingNow = before.servers.filter(serving);
  const next = b.servers.filter(serving);
  const servingNames = new Set(servingNow.map((s) => s.name));
  if (servingNow.length === 0 || next.length === 0 || next.some((s) => servingNames.has(s.name))) return { backend: b };
  if (next.some((s) => input.passed(b.name, s.name))) return { backend: b };
  const waitingFor = next.map((s) => s.name);
  const previous = input.open.get(b.name);
  const since =
    previous !== undefined && previous.waitingFor.join('\n') === waitingFor.join('\n') ? previous.since : input.now;
  const newcomers = new Set(waitingFor);
  const desiredNames = new Set(b.servers.map((s) => s.name));
  const servers = [
    ...b.servers.map((s) => (newcomers.has(s.name) ? { ...s, weight: 0 } : s)),
    ...servingNow.filter((s) => !desiredNames.has(s.name)),
  ].sort(byAddress);
  return {
    backend: { ...b, servers },
    gate: { backend: b.name, waitingFor, since, timedOut: input.now - since >= input.timeoutMs },
  };
}

/** The state to serve now: the desired one, with every gated switch held at its old servers. */
export function gateSwitches(input: GateInput): { state: DesiredState; gates: GateStatus[] } {
  const gates: GateStatus[] = [];
  const applied = new Map(input.applied?.backends.map((a) => [a.name, a]));
  const backends = input.desired.backends.map((b) => {
    const r = gateBackend(b, applied.get(b.name), input);
    if (r.gate !== undefined) gates.push(r.gate);
    return r.backend;
  });
  return { state: { frontends: input.desired.frontends, backends }, gates };
}
