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
  /** Needed for reads when set. */
  readToken?: string;
}

/** Whether a request may go on: reads need the read token (or the write token) when one is set, writes the write token. */
export function authorized(policy: AuthPolicy, write: boolean, header: string | undefined): boolean {
  const token = bearerToken(header);
  if (write) return policy.writeToken === undefined || tokenMatches(token, policy.writeToken);
  if (policy.readToken === undefined) return true;
  return (
    tokenMatches(token, policy.readToken) || (policy.writeToken !== undefined && tokenMatches(token, policy.writeToken))
  );
}
