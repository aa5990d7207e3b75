// A bounded HTTP load on loopback: keep-alive clients and new-connection
// clients looping GET requests until stopped, counting every failure.
import http from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Map<string, number>;
}

export interface Load {
  stop(): Promise<LoadResult>;
}

function once(agent: http.Agent | false, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'load.test' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode ?? 0}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

/** Starts `keepAlive` clients reusing connections and `fresh` clients opening one per request. */
export function startLoad(port: number, opts: { keepAlive: number; fresh: number; maxRequests?: number }): Load {
  const result: LoadResult = { ok: 0, failed: 0, errors: new Map() };
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.keepAlive });
  let running = true;
  const max = opts.maxRequests ?? 2_000_000;
  const loop = async (a: http.Agent | false) => {
    while (running && result.ok + result.failed < max) {
      try {
        await once(a, port);
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
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
