// After a reload, and on every resync, what HAProxy reports of its servers
// is compared with the applied config; differences become repairs.
import { parseSections, serverArg, serverParts, supportsRuntimeServers } from '../rendering/config-sections.js';
import type { ServerState } from '../haproxy-output/runtime-output.js';
import { sameEntries, type MapOp, type RuntimeOp } from './plan.js';

const FORCED_MAINT = 0x01;
const FORCED_DRAIN = 0x08;

export interface Drift {
  ops: RuntimeOp[];
  /** Differences the runtime API cannot repair: only a reload can. */
  needsReload: string[];
  reasons: string[];
}

/**
 * Repairs that bring the servers HAProxy reports back to the applied config.
 * `ignore` names servers ("backend/server") that Aqueduct itself is draining.
 */
export function detectDrift(
  appliedConfig: string,
  states: readonly ServerState[],
  ignore: ReadonlySet<string> = new Set(),
): Drift {
  const drift: Drift = { ops: [], needsReload: [], reasons: [] };
  const byBackend = new Map<string, Map<string, ServerState>>();
  for (const s of states) {
    let m = byBackend.get(s.backend);
    if (m === undefined) byBackend.set(s.backend, (m = new Map()));
    m.set(s.server, s);
  }
  for (const section of parseSections(appliedConfig)) {
    if (section.kind !== 'backend' && section.kind !== 'listen') continue;
    const live = byBackend.get(section.name) ?? new Map<string, ServerState>();
    const runtime = supportsRuntimeServers(section);
    for (const [name, server] of section.servers) {
      const state = live.get(name);
      const id = `${section.name}/${name}`;
      if (state === undefined) {
        if (runtime) {
          drift.ops.push({
            op: 'add',
            backend: section.name,
            server: name,
            ...serverParts(server),
          });
          drift.reasons.push(`${id} missing`);
        } else {
          drift.needsReload.push(`${id} missing`);
        }
        continue;
      }
      const weight = Number(serverArg(server, 'weight') ?? '1');
      if (state.weight !== weight) {
        drift.ops.push({ op: 'set-weight', backend: section.name, server: name, weight });
        drift.reasons.push(`${id} weight ${state.weight}, expected ${weight}`);
      }
      if ((state.adminState & (FORCED_MAINT | FORCED_DRAIN)) !== 0) {
        drift.ops.push({ op: 'ready', backend: section.name, server: name });
        drift.reasons.push(`${id} was put in maintenance or drain outside Aqueduct`);
      }
    }
    for (const name of live.keys()) {
      const id = `${section.name}/${name}`;
      if (section.servers.has(name) || ignore.has(id)) continue;
      if (runtime) {
        drift.ops.push({ op: 'remove', backend: section.name, server: name });
        drift.reasons.push(`${id} not in the config`);
      } else {
        drift.needsReload.push(`${id} not in the config`);
      }
    }
  }
  return drift;
}

/**
 * Repairs that bring the routing maps HAProxy serves back to the applied
 * config's (someone ran `set map` by hand, say): one whole new version of
 * each map that differs. A map HAProxy does not have (undefined) means it
 * serves another config: only a reload repairs that.
 */
export function detectMapDrift(
  applied: ReadonlyMap<string, readonly [string, string][]>,
  served: ReadonlyMap<string, readonly [string, string][] | undefined>,
): { ops: MapOp[]; needsReload: string[]; reasons: string[] } {
  const drift: { ops: MapOp[]; needsReload: string[]; reasons: string[] } = { ops: [], needsReload: [], reasons: [] };
  for (const [file, entries] of applied) {
    const live = served.get(file);
    if (live === undefined) drift.needsReload.push(`routing map ${file} not loaded`);
    else if (!sameEntries(live, entries)) {
      drift.ops.push({ op: 'set-map', file, entries: [...entries] });
      drift.reasons.push(`routing map ${file} differs from the applied config`);
    }
  }
  return drift;
}
