// Each candidate checked once. The API checks the directory as it will be
// before it writes; the loop then renders the same bytes and would check
// them again before its reload, doubling the ~100 ms `haproxy -c` on every
// change. Accepted results are kept by the bytes' hash (and a check still
// running is shared); refusals are not kept, so a fix outside the bytes (a
// file a native reads, with --allowUnsafeNatives) is seen on the next try.
import type { Clock } from '../clock.js';
import { sha256 } from '../core/hash.js';
import type { CheckResult } from './check.js';

export type ConfigCheck = (text: string, scratch: string) => Promise<CheckResult>;

export interface CheckOnceOptions {
  /** How long an accepted result is trusted (default 5 min). */
  ttlMs?: number;
  /** How many results are kept (default 16: the candidates of a burst and the loop's). */
  size?: number;
}

export function checkOnce(check: ConfigCheck, clock: Clock, opts: CheckOnceOptions = {}): ConfigCheck {
  const ttl = opts.ttlMs ?? 300_000;
  const size = opts.size ?? 16;
  const kept = new Map<string, { result: Promise<CheckResult>; at: number }>();
  return (text, scratch) => {
    const key = sha256(text);
    const hit = kept.get(key);
    if (hit !== undefined && clock.now() - hit.at < ttl) {
      kept.delete(key); // most recently used last
      kept.set(key, hit);
      return hit.result;
    }
    const result = check(text, scratch);
    kept.set(key, { result, at: clock.now() });
    const forget = () => {
      if (kept.get(key)?.result === result) kept.delete(key);
    };
    result.then((r) => (r.ok ? undefined : forget()), forget);
    while (kept.size > size) kept.delete(kept.keys().next().value as string);
    return result;
  };
}
