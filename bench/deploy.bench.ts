// A version switch between two versions of 1,000 registered members each,
// under keep-alive and new-connection load: time until the new version takes
// every new request, failed requests (target 0) and reloads (target 0).
// Peer in the same run: the same switch forced through a reload (a frontend
// change in the same apply), which is how the original Aqueduct switched.
// Real processes: `aqueduct registry`, `aqueduct run`, HAProxy, 2,000
// listening member sockets on loopback. Usage: npx tsx bench/deploy.bench.ts [runs]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { showProc } from '../src/haproxy/master-socket.js';
import { sendCommand } from '../src/haproxy/socket-client.js';
import { registryRequest } from '../src/sources/registry/registry-http.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../test/helpers/aqueduct.js';
import { apiClient, type ApiCall } from '../test/helpers/api.js';
import { ROOT } from '../test/helpers/cli.js';
import { freePort, waitForPort } from '../test/helpers/haproxy.js';
import { startLoad } from '../test/helpers/load.js';
import { fmt, machine, now } from './lib.js';

const MEMBERS = Number(process.env['MEMBERS'] ?? 1000);
const runs = Number(process.argv[2] ?? 3);
const out = (line: string) => process.stdout.write(`${line}\n`);

/** `count` HTTP servers answering {"server": "<version>"}; returns their ports. */
async function members(version: string, count: number): Promise<{ ports: number[]; close(): void }> {
  const servers: http.Server[] = [];
  for (let i = 0; i < count; i++) {
    const s = http.createServer((_req, res) => res.end(`{"server":"${version}"}`));
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    servers.push(s);
  }
  return {
    ports: servers.map((s) => (s.address() as AddressInfo).port),
    close: () => servers.forEach((s) => s.close()),
  };
}

async function register(registry: string, version: string, ports: number[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < ports.length) {
        const p = ports[next++] as number;
        const r = await registryRequest(
          'POST',
          `${registry}/registrations/svc/${version}/127.0.0.1/${p}`,
          '{"secondsToExpire":3600}',
        );
        if (r.status !== 200) throw new Error(`register: ${r.status}`);
      }
    }),
  );
}

const served = async (aq: RunningAqueduct): Promise<number> =>
  (await sendCommand(aq.statsSocket, 'show servers state pool')).split('\n').filter((l) => l.split(' ')[1] === 'pool')
    .length;

/** Switches pool to `version` under load; `viaReload` adds a backend directive so the same apply reloads. */
async function switchUnderLoad(aq: RunningAqueduct, api: ApiCall, port: number, version: string, viaReload: boolean) {
  const pid = (await showProc(aq.masterSocket)).workers[0];
  const load = startLoad(port, { keepAlive: 16, fresh: 4 });
  await new Promise((r) => setTimeout(r, 1000));
  const old = version === '2.0.0' ? '1.0.0' : '2.0.0';
  const start = now();
  let lastOld = start;
  // One write either way; the peer's also changes a backend directive, which only a reload applies.
  const r = viaReload
    ? await api('PUT', '/backends/pool', {
        type: 'dynamic',
        name: 'svc',
        version,
        natives: [`http-response set-header X-Switch ${version}`],
      })
    : await api('POST', '/backends/pool', { version });
  if (r.status !== 200) throw new Error(r.text);
  const answeredAt = now();
  // Done once 2 s pass with no answer from the old version.
  let seenOld = load.now().servers.get(old) ?? 0;
  while (now() - lastOld < 2000) {
    await new Promise((res) => setTimeout(res, 20));
    const n = load.now().servers.get(old) ?? 0;
    if (n !== seenOld) {
      seenOld = n;
      lastOld = now();
    }
    if (now() - start > 120_000) throw new Error('the old version still answers after 120 s');
  }
  const result = await load.stop();
  const reloaded = (await showProc(aq.masterSocket)).workers[0] !== pid;
  const apply = aq.logs
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('apply ') && l.result === 'ok')
    .at(-1);
  out(
    `  (${viaReload ? 'reload' : 'runtime'}: the API answered after ${fmt(answeredAt - start)}; the apply took ${String(apply?.['durationMs'])} ms)`,
  );
  if (reloaded && !viaReload)
    out(
      `  reloaded: ${
        aq.logs
          .filter((l) => l.plan === 'reload')
          .map((l) => JSON.stringify(l.reasons))
          .at(-1) ?? '?'
      }`,
    );
  return { ms: lastOld - start, ok: result.ok, failed: result.failed, errors: [...result.errors], reloaded };
}

async function oneRun(run: number): Promise<void> {
  const regPort = await freePort();
  const reg = spawn(process.execPath, [path.join(ROOT, 'bin/aqueduct.js'), 'registry', '--port', String(regPort)], {
    stdio: 'ignore',
  });
  await waitForPort(regPort);
  const registry = `http://127.0.0.1:${regPort}`;
  const [v1, v2] = [await members('1.0.0', MEMBERS), await members('2.0.0', MEMBERS)];
  const aq = await startAqueductProcess({
    env: {
      AQUEDUCT_REGISTRY: 'socketio',
      AQUEDUCT_THALASSA_API_PORT: String(regPort),
      AQUEDUCT_NO_SELF_REGISTRATION: 'true',
    },
    args: ['--drainTimeout', '2000'],
  });
  try {
    await apiUp(aq);
    const api = apiClient(aq.api);
    await register(registry, '1.0.0', v1.ports);
    await register(registry, '2.0.0', v2.ports);
    const port = await freePort();
    await api('PUT', '/backends/pool', { type: 'dynamic', name: 'svc', version: '1.0.0' });
    const fe = await api('PUT', '/frontends/bench?wait=applied', { bind: `127.0.0.1:${port}`, backend: 'pool' });
    if (fe.status !== 200) throw new Error(fe.text);
    while ((await served(aq)) < MEMBERS) await new Promise((r) => setTimeout(r, 50));
    const runtime = await switchUnderLoad(aq, api, port, '2.0.0', false);
    while ((await served(aq)) > MEMBERS) await new Promise((r) => setTimeout(r, 50)); // old servers drained and deleted
    const reload = await switchUnderLoad(aq, api, port, '1.0.0', true);
    const line = (name: string, r: typeof runtime) =>
      `${name}: new version takes every request after ${fmt(r.ms)}; ${r.ok} ok, ${r.failed} failed${r.failed > 0 ? ` ${JSON.stringify(r.errors)}` : ''}; reload: ${r.reloaded ? 'yes' : 'no'}`;
    out(`run ${run}, ${MEMBERS} + ${MEMBERS} members:`);
    out(`  ${line('runtime switch (Aqueduct)', runtime)}`);
    out(`  ${line('switch through a reload (peer)', reload)}`);
    out(`  ratio runtime / reload: ${(runtime.ms / reload.ms).toFixed(2)}`);
  } finally {
    await aq.stop();
    reg.kill('SIGTERM');
    await once(reg, 'exit');
    v1.close();
    v2.close();
  }
}

out(`# deploy bench on ${machine()}`);
for (let i = 1; i <= runs; i++) await oneRun(i);
