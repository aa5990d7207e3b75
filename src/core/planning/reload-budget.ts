// When a structural change may reload HAProxy. Two rules, so that changes
// people and pipelines make one at a time reload at once, while storms are
// coalesced and old workers stay bounded:
//   coalescing   a candidate that differs from one seen less than `quietMs`
//                ago is part of a storm: it waits until candidates stop
//                changing for `quietMs`, but never longer than `maxWaitMs`
//                after the storm began;
//   token bucket `burst` reloads may follow each other at once; the bucket
//                refills one token every `refillMs` (--minReloadInterval).
// Pure: the caller passes the time and keeps the state.

export interface ReloadBudgetOptions {
  burst: number;
  refillMs: number;
  quietMs: number;
  maxWaitMs: number;
}

export interface ReloadBudgetState {
  tokens: number;
  /** When tokens were last counted. */
  at: number;
  /** The last candidate seen, and when it first appeared. */
  candidate?: string;
  candidateAt?: number;
  /** When the current storm (candidates changing faster than quietMs) began. */
  stormSince?: number;
}

export const DEFAULT_RELOAD_BUDGET: Omit<ReloadBudgetOptions, 'refillMs'> = {
  burst: 20,
  quietMs: 100,
  maxWaitMs: 1000,
};

export function initialBudget(opts: ReloadBudgetOptions, now: number): ReloadBudgetState {
  return { tokens: opts.burst, at: now };
}

/** Tokens refilled up to `now`. */
function refill(state: ReloadBudgetState, opts: ReloadBudgetOptions, now: number): ReloadBudgetState {
  if (opts.refillMs <= 0) return { ...state, tokens: opts.burst, at: now };
  const earned = Math.floor((now - state.at) / opts.refillMs);
  if (earned <= 0) return state;
  const tokens = Math.min(opts.burst, state.tokens + earned);
  return { ...state, tokens, at: tokens === opts.burst ? now : state.at + earned * opts.refillMs };
}

/**
 * Whether the reload of `candidate` (its hash) may happen now; if not, how
 * long to wait. `noticedAt` is when the latest change behind this candidate
 * was noticed (the run's latest trigger): a loop busy reloading looks late,
 * but changes that kept arriving meanwhile still count as a storm, and the
 * quiet is counted from the last of them. The state to keep comes back
 * either way.
 */
export function decideReload(
  state: ReloadBudgetState,
  opts: ReloadBudgetOptions,
  candidate: string,
  now: number,
  noticedAt = now,
): { reload: boolean; waitMs: number; state: ReloadBudgetState } {
  let s = refill(state, opts, now);
  if (s.candidate !== candidate) {
    const storming = s.candidateAt !== undefined && noticedAt - s.candidateAt < opts.quietMs;
    const at = Math.min(noticedAt, now);
    s = { ...s, candidate, candidateAt: at, ...(storming ? { stormSince: s.stormSince ?? s.candidateAt } : {}) };
    if (!storming) delete s.stormSince;
  }
  if (s.stormSince !== undefined) {
    const quietAt = (s.candidateAt ?? now) + opts.quietMs;
    const deadline = s.stormSince + opts.maxWaitMs;
    if (now < quietAt && now < deadline) return { reload: false, waitMs: Math.min(quietAt, deadline) - now, state: s };
  }
  if (s.tokens < 1) return { reload: false, waitMs: Math.max(1, s.at + opts.refillMs - now), state: s };
  return { reload: true, waitMs: 0, state: s };
}

/** The state after a reload happened at `now`: one token spent, the storm over. */
export function reloaded(state: ReloadBudgetState, opts: ReloadBudgetOptions, now: number): ReloadBudgetState {
  const s = refill(state, opts, now);
  const { stormSince: _storm, ...rest } = s;
  return { ...rest, tokens: Math.max(0, s.tokens - 1) };
}
