// Which versions a dynamic backend serves and in what shares, and the
// per-server HAProxy weights that make those shares hold whatever the
// number of members of each version.
import type { BackendSpec, Member, VersionWeight } from '../manifests/model.js';
import type { RolloutPosition } from './rollout.js';

/** HAProxy's largest server weight. */
export const MAX_SERVER_WEIGHT = 256;

/**
 * The versions a dynamic backend routes to now: its rollout's position when
 * one is recorded for the current rollout, else `versions`, else `version`
 * alone. An empty list for a static backend.
 */
export function trafficSplit(spec: BackendSpec, rollout?: RolloutPosition): VersionWeight[] {
  if (spec.type !== 'dynamic' || spec.version === undefined) return [];
  if (rollout !== undefined && spec.rollout !== undefined && rollout.to === spec.rollout.to) {
    if (rollout.state === 'aborted') return [{ version: rollout.from, weight: 100 }];
    if (rollout.state === 'complete') return [{ version: rollout.to, weight: 100 }];
    const share = spec.rollout.steps[rollout.step] ?? 100;
    return [
      { version: rollout.from, weight: 100 - share },
      { version: rollout.to, weight: share },
    ];
  }
  return spec.versions ?? [{ version: spec.version, weight: 100 }];
}

/**
 * Integer weights (0–256) per member of each version so that version v
 * receives weight(v) / Σ weight of the requests: a member of v gets
 * weight(v) / members(v), scaled so the heaviest member has 256. A version
 * with weight 0 keeps its members at weight 0 (drained, not removed); one
 * with no members has nothing to route to and its share goes to the others.
 */
export function versionServerWeights(
  split: readonly VersionWeight[],
  counts: ReadonlyMap<string, number>,
): Map<string, number> {
  const perMember = new Map<string, number>();
  for (const v of split) {
    const n = counts.get(v.version) ?? 0;
    perMember.set(v.version, n === 0 ? 0 : v.weight / n);
  }
  const max = Math.max(0, ...perMember.values());
  const out = new Map<string, number>();
  for (const [version, w] of perMember) {
    const scaled = max === 0 ? 0 : Math.round((w * MAX_SERVER_WEIGHT) / max);
    out.set(version, w > 0 ? Math.max(1, scaled) : 0);
  }
  return out;
}

/**
 * Members of a dynamic backend across its split. A single version at full
 * share keeps HAProxy's default weight (no weight written), as before
 * weighted versions existed; any other split writes every weight.
 */
export function splitMembers(
  split: readonly VersionWeight[],
  membersOf: (version: string) => readonly Member[],
): Member[] {
  const single = split.length === 1 && (split[0]?.weight ?? 0) > 0;
  const byVersion = new Map(split.map((v) => [v.version, membersOf(v.version)]));
  if (single) return [...(byVersion.values().next().value ?? [])].map((m) => ({ host: m.host, port: m.port }));
  const weights = versionServerWeights(split, new Map([...byVersion].map(([v, ms]) => [v, ms.length])));
  return [...byVersion].flatMap(([v, ms]) =>
    ms.map((m) => ({ host: m.host, port: m.port, weight: weights.get(v) ?? 0 })),
  );
}
