// When an ACME certificate is ordered: when none was issued yet, or when
// less than `renewBefore` of its life is left, but never earlier than two
// thirds into its life (a certificate shorter-lived than the setting is not
// re-ordered the moment it arrives). A failed order waits before the next,
// doubling from a minute to six hours, so a broken setup cannot hammer the
// directory into its rate limits.
import { epochMs } from './certificate.js';

export interface RenewalState {
  /** Failed orders in a row. */
  failures: number;
  /** No order before this (ms since the epoch). */
  notBefore: number;
  lastError: string | null;
}

export const FRESH_RENEWAL: RenewalState = { failures: 0, notBefore: 0, lastError: null };

const MINUTE = 60_000;
const BACKOFF_CAP_MS = 6 * 60 * MINUTE;

/** Whether a certificate valid over [notBefore, notAfter] (none: not issued) is due now. */
export function renewalDue(
  issued: { notBefore: string; notAfter: string } | undefined,
  nowMs: number,
  renewBeforeMs: number,
): boolean {
  if (issued === undefined) return true;
  const from = epochMs(issued.notBefore);
  const to = epochMs(issued.notAfter);
  const lead = Math.min(renewBeforeMs, (to - from) / 3);
  return nowMs >= to - lead;
}

/** Whether an order may start now, given the renewal state. */
export const mayOrder = (state: RenewalState, nowMs: number): boolean => nowMs >= state.notBefore;

export function afterFailure(state: RenewalState, error: string, nowMs: number): RenewalState {
  const failures = state.failures + 1;
  const wait = Math.min(MINUTE * 2 ** (failures - 1), BACKOFF_CAP_MS);
  return { failures, notBefore: nowMs + wait, lastError: error };
}
