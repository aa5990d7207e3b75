// Polling and routing helpers shared by the tests that run the real loop.
import { getJson } from './haproxy.js';

/** Which echo server answered a request through HAProxy on port (its name, e.g. live-1). */
export const serverOf = async (port: number, host = 'www.example.org', urlPath = '/'): Promise<string> =>
  String((await getJson(port, urlPath, host)).body['server']);

/** Polls until fn() resolves to a value accepted by ok, or fails after timeoutMs. */
export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // not yet
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
