// Bearer tokens for the API (the original's "known limitation" was none).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares in constant time: hashing first makes the lengths equal, so nothing leaks through timing. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export interface AuthPolicy {
  /** Needed for writes (and accepted for reads) when set. */
  writeToken?: string;
  /** Needed for reads when set; without a write token, needed for writes too (a read token never leaves writes open). */
  readToken?: string;
}

/**
 * Whether a request's token lets it on: reads need the read token (or the
 * write token) when one is set; writes the write token, or the read token
 * when it is the only one.
 */
export function authorized(policy: AuthPolicy, write: boolean, header: string | undefined): boolean {
  const token = bearerToken(header);
  if (write) {
    const needed = policy.writeToken ?? policy.readToken;
    return needed === undefined || tokenMatches(token, needed);
  }
  if (policy.readToken === undefined) return true;
  return (
    tokenMatches(token, policy.readToken) || (policy.writeToken !== undefined && tokenMatches(token, policy.writeToken))
  );
}
