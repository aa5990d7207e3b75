// A bounded HTTP load on loopback: keep-alive clients and new-connection
// clients looping GET requests until stopped, counting every failure.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  /** Answers by the echo server that gave them (its name), whatever their status. */
  servers: Map<string, number>;
}

export interface Load {
  stop(): Promise<LoadResult>;
  /** The counts so far, while it runs. */
  now(): LoadResult;
}

/** Over TLS with this SNI name (any certificate accepted: the test checks fingerprints itself). */
export interface LoadTls {
  servername: string;
}

function once(agent: http.Agent | false, port: number, servers: Map<string, number>, tls?: LoadTls): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path: '/', agent, headers: { host: tls?.servername ?? 'load.test' } };
    const get = (cb: (res: http.IncomingMessage) => void) =>
      tls === undefined
        ? http.get(options, cb)
        : https.get({ ...options, servername: tls.servername, rejectUnauthorized: false }, cb);
    const req = get((res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const server = /"server":"([^"]*)"/.exec(body)?.[1];
        if (server !== undefined) servers.set(server, (servers.get(server) ?? 0) + 1);
        if (res.statusCode === 200) resolve();
        else reject(new Error(`HTTP ${res.statusCode ?? 0}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

/** Starts `keepAlive` clients reusing connections and `fresh` clients opening one per request. */
export function startLoad(
  port: number,
  opts: { keepAlive: number; fresh: number; maxRequests?: number; tls?: LoadTls },
): Load {
  const result: LoadResult = { ok: 0, failed: 0, errors: new Map(), servers: new Map() };
  const agentOptions = { keepAlive: true, maxSockets: opts.keepAlive };
  const agent =
    opts.tls === undefined
      ? new http.Agent(agentOptions)
      : new https.Agent({ ...agentOptions, rejectUnauthorized: false, servername: opts.tls.servername });
  let running = true;
  const max = opts.maxRequests ?? 2_000_000;
  const loop = async (a: http.Agent | false) => {
    while (running && result.ok + result.failed < max) {
      try {
        await once(a, port, result.servers, opts.tls);
        result.ok++;
      } catch (err) {
        result.failed++;
        const key = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
      }
    }
  };
  const loops = [
    ...Array.from({ length: opts.keepAlive }, () => loop(agent)),
    ...Array.from({ length: opts.fresh }, () => loop(false)),
  ];
  return {
    now: () => result,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

/** Asserts a load made enough requests and lost none; prints the figures. */
export function assertNoLoss(result: LoadResult, what: string): void {
  assert.ok(result.ok > 500, `only ${result.ok} requests were made`);
  assert.equal(
    result.failed,
    0,
    `${what}: failed ${JSON.stringify([...result.errors])} of ${result.ok + result.failed}`,
  );
  process.stdout.write(`# ${what}: ${result.ok} requests, ${result.failed} failed\n`);
}
