// Side by side with the original Thalassa Aqueduct 0.5.3 (bash bench/peer-setup.sh first),
// on the same machine, HAProxy and REST API, in the same run:
//   - PUT frontend → served: from the PUT until a request through HAProxy carries the new header;
//   - failed requests through HAProxy while 20 such structural PUTs are applied under load.
// Both take the same PUT bodies (the original API is our contract). The peer needs a registry:
// a real Thalassa on redis-server. Usage: npx tsx bench/peer.bench.ts [runs]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { apiUp, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { ROOT } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/fixtures.js';
import { freePort, startEchoServer, waitForPort } from '../test/helpers/haproxy.js';
import { startLoad } from '../test/helpers/load.js';
import { startRedis, thalassaServer } from '../test/helpers/thalassa.js';
import { fmt, machine, now, percentile } from './lib.js';

const RUNS = Number(process.argv[2] ?? 3);
const PUTS = 20;
const PEER = path.join(ROOT, '.bench-peer');
const out = (line: string) => process.stdout.write(`${line}\n`);

interface System {
  api: string;
  stop(): Promise<void>;
}

/** The X-Put header of one request through HAProxy on a new connection, or undefined when it fails. */
function header(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-put']) : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** A PUT on a new connection: the peer's hapi 1.x leaves a second request on a kept-alive one unanswered. */
function put(api: string, route: string, body: object): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${api}${route}`,
      {
        method: 'PUT',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${route}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** PUTs the frontend with header value `mark`, then polls through HAProxy (every 5 ms) until it is served. */
async function putServed(api: string, port: number, mark: string): Promise<number> {
  const t0 = now();
  await put(api, '/frontends/f', {
    bind: `127.0.0.1:${port}`,
    backend: 'b',
    natives: [`http-response set-header X-Put ${mark}`],
  });
  for (;;) {
    if ((await header(port)) === mark) return now() - t0;
    if (now() - t0 > 30_000) throw new Error(`X-Put ${mark} not served within 30 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function aqueduct(): Promise<System> {
  const aq = await startAqueductProcess();
  await apiUp(aq);
  return { api: aq.api, stop: async () => void (await aq.stop()) };
}

async function peer(): Promise<System> {
  const dir = await tempDir('aqueduct-peer-');
  const redis = await startRedis();
  const thalassa = await thalassaServer(redis);
  await thalassa.start();
  const template = (await readFile(path.join(PEER, 'haproxy26.tmpl'), 'utf8')).replace(
    '{{statsPort}}',
    String(await freePort()),
  );
  await writeFile(path.join(dir, 'haproxy.tmpl'), template);
  await mkdir(path.join(dir, 'db'));
  const port = await freePort();
  const pidFile = path.join(dir, 'haproxy.pid');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(PEER, 'node_modules', 'thalassa-aqueduct', 'bin', 'server.js'),
      ...['--host', '127.0.0.1', '--port', String(port)],
      ...['--thalassaHost', '127.0.0.1', '--thalassaPort', String(thalassa.port)],
      ...['--thalassaApiPort', String(thalassa.apiPort)],
      ...['--haproxySocketPath', path.join(dir, 'haproxy.sock'), '--haproxyPidPath', pidFile],
      ...['--haproxyCfgPath', path.join(dir, 'haproxy.cfg'), '--templateFile', path.join(dir, 'haproxy.tmpl')],
      ...['--dbPath', path.join(dir, 'db')],
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 30_000);
  return {
    api: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      // Its HAProxy runs as a daemon (haproxy -D -p pidfile): stop every pid the file lists.
      const pids = (await readFile(pidFile, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGTERM');
      await thalassa.stop();
      await redis.stop();
    },
  };
}

async function measure(name: string, start: () => Promise<System>): Promise<{ p50: number; failed: string }> {
  const echo = await startEchoServer('b1');
  const port = await freePort();
  const sys = await start();
  try {
    await put(sys.api, '/backends/b', { type: 'static', members: [{ host: '127.0.0.1', port: echo.port }] });
    await putServed(sys.api, port, 'start');
    const latencies: number[] = [];
    for (let i = 0; i < PUTS; i++) latencies.push(await putServed(sys.api, port, `quiet-${i}`));
    const load = startLoad(port, { keepAlive: 8, fresh: 4 });
    for (let i = 0; i < PUTS; i++) await putServed(sys.api, port, `load-${i}`);
    const result = await load.stop();
    const p50 = percentile(latencies, 50);
    const failed = `${result.failed} of ${result.ok + result.failed} ${JSON.stringify([...result.errors])}`;
    out(`  ${name}: PUT → served p50 ${fmt(p50)} (max ${fmt(Math.max(...latencies))}); under load ${failed} failed`);
    return { p50, failed };
  } finally {
    await sys.stop();
    await echo.close();
  }
}

out(`# side by side with Thalassa Aqueduct 0.5.3 (${machine()}, ${RUNS} runs, ${PUTS} PUTs each way)`);
for (let run = 1; run <= RUNS; run++) {
  out(`run ${run}`);
  const ours = await measure('Aqueduct', aqueduct);
  const theirs = await measure('Thalassa Aqueduct 0.5.3', peer);
  out(`  ratio (peer ÷ Aqueduct, PUT → served p50): ${(theirs.p50 / ours.p50).toFixed(1)}×`);
}
