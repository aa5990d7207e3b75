// 1000 registrations arriving at once: time until HAProxy serves all of them,
// and how many reloads that took (target 0 once the backend exists). Real
// processes: the embedded registry (`aqueduct registry`) and `aqueduct run`
// with the socket.io source, or the real Thalassa on redis-server with
// SOURCE=thalassa. Usage: npx tsx bench/registry.bench.ts [runs]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { sendCommand } from '../src/haproxy/socket-client.js';
import { registryRequest } from '../src/sources/registry/registry-http.js';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../test/helpers/aqueduct.js';
import { apiClient } from '../test/helpers/api.js';
import { ROOT } from '../test/helpers/cli.js';
import { freePort, waitForPort } from '../test/helpers/haproxy.js';
import { startRedis, thalassaServer } from '../test/helpers/thalassa.js';
import { fmt, now, percentile } from './lib.js';

const COUNT = Number(process.env['COUNT'] ?? 1000);
const runs = Number(process.argv[2] ?? 3);
const source = process.env['SOURCE'] === 'thalassa' ? 'thalassa' : 'socketio';
const out = (line: string) => process.stdout.write(`${line}\n`);

interface Registry {
  env: Record<string, string>;
  api: string;
  stop(): Promise<void>;
}

async function registry(): Promise<Registry> {
  if (source === 'thalassa') {
    const redis = await startRedis();
    const t = await thalassaServer(redis);
    await t.start();
    return {
      env: {
        AQUEDUCT_REGISTRY: 'thalassa',
        AQUEDUCT_THALASSA_PORT: String(t.port),
        AQUEDUCT_THALASSA_API_PORT: String(t.apiPort),
      },
      api: t.api,
      stop: async () => {
        await t.stop();
        await redis.stop();
      },
    };
  }
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/aqueduct.js'), 'registry', '--port', String(port)], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  return {
    env: { AQUEDUCT_REGISTRY: 'socketio', AQUEDUCT_THALASSA_API_PORT: String(port) },
    api: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** A registry and an Aqueduct following it, with a dynamic backend `pool` on svc@1.0.0 served; stopped after fn. */
async function withPool(fn: (reg: Registry, aq: RunningAqueduct) => Promise<void>): Promise<void> {
  const reg = await registry();
  const aq = await startAqueductProcess({ env: { ...reg.env, AQUEDUCT_NO_SELF_REGISTRATION: 'true' } });
  try {
    const api = apiClient(aq.api);
    await aq.waitFor((l) => l.msg === 'registry events connected', 15_000, 0);
    const put = await api('PUT', '/backends/pool?wait=applied', { type: 'dynamic', name: 'svc', version: '1.0.0' });
    if (put.status !== 200) throw new Error(put.text);
    await fn(reg, aq);
  } finally {
    await aq.stop();
    await reg.stop();
  }
}

async function oneRun(run: number): Promise<void> {
  await withPool(async (reg, aq) => {
    const reloadsBefore = aq.logs.filter(isApply('reload')).length;
    const start = now();
    // All at once, a few hundred connections in flight, as a fleet starting together.
    const ports = Array.from({ length: COUNT }, (_, i) => 20000 + i);
    const inFlight = 200;
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < ports.length) {
          const p = ports[next++] as number;
          const r = await registryRequest(
            'POST',
            `${reg.api}/registrations/svc/1.0.0/127.0.0.1/${p}`,
            '{"secondsToExpire":600}',
          );
          if (r.status !== 200) throw new Error(`register: ${r.status}`);
        }
      }),
    );
    const registered = now() - start;
    for (;;) {
      const state = await sendCommand(aq.statsSocket, 'show servers state pool');
      const servers = state.split('\n').filter((l) => l.split(' ')[1] === 'pool').length;
      if (servers >= COUNT) break;
      if (now() - start > 120_000) throw new Error(`only ${servers} servers after 120 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const served = now() - start;
    await aq.quiet(500);
    const reloads = aq.logs.filter(isApply('reload')).length - reloadsBefore;
    const runtime = aq.logs.filter(isApply('runtime')).length;
    out(
      `run ${run} (${source}): ${COUNT} registered in ${fmt(registered)}; all served by HAProxy after ${fmt(served)}; reloads ${reloads}; runtime applies ${runtime}`,
    );
  });
}

/** One registration at a time: from the registry's answer until HAProxy lists the server. */
async function oneByOne(run: number): Promise<void> {
  await withPool(async (reg, aq) => {
    const mark = aq.logs.length;
    const latencies: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const r = await registryRequest(
        'POST',
        `${reg.api}/registrations/svc/1.0.0/127.0.0.1/${21000 + i}`,
        '{"secondsToExpire":600}',
      );
      if (r.status !== 200) throw new Error(`register: ${r.status}`);
      const start = now();
      for (;;) {
        const state = await sendCommand(aq.statsSocket, 'show servers state pool');
        if (state.includes(`:${21000 + i} `)) break;
        if (now() - start > 10_000) throw new Error('not served within 10 s');
        await new Promise((res) => setTimeout(res, 2));
      }
      latencies.push(now() - start);
    }
    const reloads = aq.logs.slice(mark).filter(isApply('reload')).length;
    out(
      `run ${run} (${source}): one registration → served p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(Math.max(...latencies))} over ${SINGLES}; reloads ${reloads}`,
    );
  });
}

const SINGLES = Number(process.env['SINGLES'] ?? 100);
for (let i = 1; i <= runs; i++) await (process.env['MODE'] === 'single' ? oneByOne(i) : oneRun(i));
