// What each certificate's served file should hold, and why: the declared
// pair when it is good; otherwise the last good pair HAProxy already serves,
// so a broken renewal never takes a working certificate away; otherwise a
// self-signed placeholder, so a frontend with one bad certificate still
// serves its others (and ACME can answer before its first issuance).
import { epochMs, inspectPair, validityAt, type CertificateInfo } from './certificate.js';
import type { CertificateCondition, CertificateState } from './certificate-types.js';

/** What a certificate's source gave this run. */
export type Material =
  | { kind: 'pair'; cert: string; key: string }
  | { kind: 'unreadable'; message: string }
  /** ACME, not issued yet. */
  | { kind: 'pending'; message: string };

/** What the served file holds now (read back from disk). */
export interface Served {
  pem: string;
  info: CertificateInfo;
  placeholder: boolean;
}

export type { CertificateCondition, CertificateState } from './certificate-types.js';

export interface CertificateDecision {
  state: CertificateState;
  /** The served file's content; 'placeholder' asks the caller to make one (or keep the one there). */
  pem: string | 'placeholder';
}

const keepOrPlaceholder = (
  name: string,
  condition: CertificateCondition,
  message: string,
  served: Served | undefined,
): CertificateDecision => {
  if (served !== undefined && !served.placeholder)
    return { state: { name, condition, message, serving: 'previous', info: served.info }, pem: served.pem };
  return {
    state: { name, condition, message, serving: 'placeholder', info: served?.info ?? null },
    pem: served?.pem ?? 'placeholder',
  };
};

/** `inspect` is inspectPair, or a memo of it: parsing a thousand pairs on every run is most of a run's cost. */
export function decideCertificate(
  name: string,
  material: Material,
  served: Served | undefined,
  nowMs: number,
  inspect: typeof inspectPair = inspectPair,
): CertificateDecision {
  if (material.kind !== 'pair') return keepOrPlaceholder(name, material.kind, material.message, served);
  const pair = inspect(material.cert, material.key);
  if (!pair.ok) return keepOrPlaceholder(name, pair.problem, pair.message, served);
  const validity = validityAt(pair.info, nowMs);
  const current: CertificateDecision = {
    state: { name, condition: validity, message: null, serving: 'current', info: pair.info },
    pem: pair.pem,
  };
  if (validity === 'valid') return current;
  const message =
    validity === 'expired' ? `expired on ${pair.info.notAfter}` : `not valid before ${pair.info.notBefore}`;
  // An expired pair replaces nothing that still works; where nothing works, it is better than a placeholder.
  const servedWorks = served !== undefined && !served.placeholder && validityAt(served.info, nowMs) === 'valid';
  if (servedWorks) return keepOrPlaceholder(name, validity, message, served);
  return { ...current, state: { ...current.state, message } };
}

/** What the metrics show of each certificate: the served one's expiry (not a placeholder's), and any problem. */
export function certificateFigures(
  states: readonly CertificateState[],
): { certificate: string; notAfterSeconds?: number; problem?: string }[] {
  return states.map((s) => ({
    certificate: s.name,
    ...(s.serving !== 'placeholder' && s.info !== null && { notAfterSeconds: epochMs(s.info.notAfter) / 1000 }),
    ...(s.condition !== 'valid' && { problem: s.condition }),
  }));
}
