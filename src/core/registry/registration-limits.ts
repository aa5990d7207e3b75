// How large and deep a registration may be before anything recursive
// (validation's structuredClone, JSON.stringify) touches it. A registry and
// whoever registers with it are untrusted: 40 KB of `meta` nested 3,200 deep
// used to overflow the stack and end the process. Walked with an explicit
// stack, never recursively, and stopped at the first limit passed.

export const REGISTRATION_LIMITS = {
  /** Nesting of arrays and objects, the registration itself at depth 1. */
  maxDepth: 32,
  /** Rough size of meta as JSON text, bytes. */
  maxMetaBytes: 16 * 1024,
  /** Rough size of the whole registration, bytes. */
  maxBytes: 64 * 1024,
} as const;

/** A rough JSON size of one value, not counting what it contains. */
function ownSize(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (value !== null && typeof value === 'object') return 2;
  return 8;
}

/** The depth and rough size of a value, walking at most until a limit is passed. */
function measure(value: unknown, maxDepth: number, maxBytes: number): { depth: number; bytes: number } {
  const stack: [unknown, number][] = [[value, 1]];
  let depth = 0;
  let bytes = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    bytes += ownSize(v);
    if (v === null || typeof v !== 'object') continue;
    depth = Math.max(depth, d);
    if (depth > maxDepth || bytes > maxBytes) break;
    for (const [k, child] of Object.entries(v)) {
      bytes += k.length + 3;
      stack.push([child, d + 1]);
    }
  }
  return { depth, bytes };
}

/** Why a raw registration is too large or deep to look at, or undefined when it is within the limits. */
export function registrationTooLarge(raw: unknown, limits = REGISTRATION_LIMITS): string | undefined {
  const whole = measure(raw, limits.maxDepth, limits.maxBytes);
  if (whole.depth > limits.maxDepth) return `it nests deeper than ${limits.maxDepth} levels`;
  if (whole.bytes > limits.maxBytes) return `it is larger than ${limits.maxBytes} bytes`;
  const meta = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)['meta'] : undefined;
  if (meta !== undefined && measure(meta, limits.maxDepth, limits.maxMetaBytes).bytes > limits.maxMetaBytes)
    return `its meta is larger than ${limits.maxMetaBytes} bytes`;
  return undefined;
}
