// A progressive rollout as desired state plus a recorded position: the
// position moves one step when the step's time has passed with enough
// requests and an error rate within bounds, and goes to `aborted` as soon as
// the new version's own HAProxy counters exceed the bound. Pure: the caller
// reads the counters and the time, and persists the position.
import type { RolloutSpec } from '../manifests/model.js';

export type RolloutState = 'progressing' | 'aborted' | 'complete';

/** Requests answered and failed by the new version's servers. */
export interface Figures {
  requests: number;
  errors: number;
}

export interface RolloutPosition {
  /** Identity of the rollout (from, to, steps): a changed rollout starts over. */
  key: string;
  from: string;
  to: string;
  state: RolloutState;
  /** Index into steps. */
  step: number;
  /** The new version's share of requests now, percent (0 once aborted, 100 once complete). */
  share: number;
  /** When the current step began, ms since the epoch. */
  stepStartedAt: number;
  /** Counters of each new-version server when the step began: figures are counted from there. */
  baseline: Record<string, Figures>;
  /** The current step's figures so far (or the ones that ended the rollout). */
  figures: Figures;
  /** Why it ended, or what it waits for. */
  reason?: string;
  updatedAt: number;
}

/** What happened at this look, for the ledger, the stream and metrics. */
export type RolloutEvent = 'started' | 'advanced' | 'aborted' | 'complete' | 'removed';

export const rolloutKey = (from: string, spec: RolloutSpec): string => `${from}>${spec.to}@${spec.steps.join(',')}`;

/** Counters counted from the step's baseline; a counter below its baseline was reset (a reload), so counts from 0. */
export function figuresSince(baseline: Record<string, Figures>, now: Record<string, Figures>): Figures {
  let requests = 0;
  let errors = 0;
  for (const [server, c] of Object.entries(now)) {
    const base = Object.hasOwn(baseline, server) ? baseline[server] : undefined;
    const reset = base === undefined || c.requests < base.requests || c.errors < base.errors;
    requests += reset ? c.requests : c.requests - base.requests;
    errors += reset ? c.errors : c.errors - base.errors;
  }
  return { requests, errors };
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

function start(spec: RolloutSpec, from: string, counters: Record<string, Figures>, now: number): RolloutPosition {
  return {
    key: rolloutKey(from, spec),
    from,
    to: spec.to,
    state: 'progressing',
    step: 0,
    share: spec.steps[0] ?? 100,
    stepStartedAt: now,
    baseline: counters,
    figures: { requests: 0, errors: 0 },
    updatedAt: now,
  };
}

/**
 * The next position of a rollout after looking at the new version's
 * counters at `now`. `event` is set when the position moved.
 */
export function stepRollout(
  spec: RolloutSpec,
  from: string,
  position: RolloutPosition | undefined,
  counters: Record<string, Figures>,
  now: number,
): { position: RolloutPosition; event?: RolloutEvent } {
  if (position === undefined || position.key !== rolloutKey(from, spec))
    return { position: start(spec, from, counters, now), event: 'started' };
  if (position.state !== 'progressing') return { position };
  const figures = figuresSince(position.baseline, counters);
  const rate = figures.requests === 0 ? 0 : figures.errors / figures.requests;
  const share = spec.steps[position.step] ?? 100;
  if (figures.requests >= spec.minRequests && figures.requests > 0 && rate > spec.maxErrorRate) {
    const reason = `${figures.errors} of ${figures.requests} requests to ${spec.to} failed (${percent(rate)}, above ${percent(spec.maxErrorRate)}) at ${share}%`;
    return { position: { ...position, state: 'aborted', share: 0, figures, reason, updatedAt: now }, event: 'aborted' };
  }
  const stepDone = now >= position.stepStartedAt + spec.stepSeconds * 1000;
  if (!stepDone || figures.requests < spec.minRequests) {
    const reason = stepDone
      ? `waiting for ${spec.minRequests - figures.requests} more requests to ${spec.to} before judging ${share}%`
      : undefined;
    const { reason: _old, ...rest } = position;
    return { position: { ...rest, figures, ...(reason !== undefined && { reason }) } };
  }
  const base = {
    ...position,
    figures: { requests: 0, errors: 0 },
    baseline: counters,
    stepStartedAt: now,
    updatedAt: now,
  };
  delete base.reason;
  if (position.step + 1 >= spec.steps.length)
    return { position: { ...base, state: 'complete', share: 100, figures, step: position.step }, event: 'complete' };
  return {
    position: { ...base, step: position.step + 1, share: spec.steps[position.step + 1] ?? 100 },
    event: 'advanced',
  };
}

/** One line for the ledger and the log. */
export function describeRollout(backend: string, spec: RolloutSpec | undefined, p: RolloutPosition): string {
  const share = spec?.steps[p.step] ?? 100;
  switch (p.state) {
    case 'progressing':
      return `backend ${backend}: rollout ${p.from} → ${p.to} at step ${p.step + 1}/${spec?.steps.length ?? 1} (${share}%)`;
    case 'aborted':
      return `backend ${backend}: rollout ${p.from} → ${p.to} rolled back: ${p.reason ?? 'aborted'}`;
    case 'complete':
      return `backend ${backend}: rollout ${p.from} → ${p.to} complete; ${p.from} drained`;
  }
}
