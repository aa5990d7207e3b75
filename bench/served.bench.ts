// What a writer waits for, measured from the outside with the default
// options: PUT sent → a new connection through HAProxy sees the change, for
// a new frontend, an edit of one (both reloads) and a member change (the
// runtime API), the API's own time included. Beside them, in the same run,
// the floors: `haproxy -c` + a reload of the same config for the structural
// case, one runtime command for the member case. Then 100 PUTs of distinct
// backends at once (total, per-request p50/p99). Usage: npx tsx bench/served.bench.ts [runs]
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { reloadViaMaster } from '../src/haproxy/master-socket.js';
import { sendCommand } from '../src/haproxy/socket-client.js';
import type { ApiCall } from '../test/helpers/api.js';
import type { RunningAqueduct } from '../test/helpers/aqueduct.js';
import { freePort, HAPROXY_BIN } from '../test/helpers/haproxy.js';
import type { Scenario } from '../test/helpers/scenario.js';
import { withAqueduct } from './api-run.js';
import { fmt, machine, now, percentile } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
const N = 20;
const out = (line: string) => process.stdout.write(`${line}\n`);
const run = promisify(execFile);

/** One request through HAProxy on a new connection: its status, X-Put header and answering server. */
function probe(port: number): Promise<{ status: number; mark?: string; server?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const server = /"server":"([^"]+)"/.exec(body)?.[1];
        resolve({ status: res.statusCode ?? 0, mark: String(res.headers['x-put']), ...(server && { server }) });
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** ms from the PUT until `served` holds on a new connection (polled back to back). */
async function putUntil(api: ApiCall, route: string, body: object, served: () => Promise<boolean>): Promise<number> {
  const t0 = now();
  const r = await api('PUT', route, body);
  if (r.status !== 200) throw new Error(`PUT ${route}: ${r.status} ${r.text}`);
  while (!(await served())) if (now() - t0 > 30_000) throw new Error(`${route} not served within 30 s`);
  return now() - t0;
}

const stats = (xs: number[]) => `p50 ${fmt(percentile(xs, 50))}, p90 ${fmt(percentile(xs, 90))}`;

async function structural(s: Scenario, api: ApiCall): Promise<{ created: number[]; edited: number[] }> {
  const created: number[] = [];
  for (let i = 0; i < N / 2; i++) {
    const port = await freePort();
    const body = { bind: `127.0.0.1:${port}`, backend: 'b' };
    created.push(await putUntil(api, `/frontends/new-${i}`, body, async () => (await probe(port)).status === 200));
  }
  const edited: number[] = [];
  for (let i = 0; i < N; i++) {
    const body = { bind: `127.0.0.1:${s.port}`, backend: 'b', natives: [`http-response set-header X-Put e${i}`] };
    edited.push(await putUntil(api, '/frontends/f', body, async () => (await probe(s.port)).mark === `e${i}`));
  }
  return { created, edited };
}

async function members(s: Scenario, api: ApiCall): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const name = i % 2 === 0 ? 'extra-1' : 'live-1';
    const body = { type: 'static', members: [{ host: '127.0.0.1', port: s.echoes.get(name)?.port }] };
    times.push(await putUntil(api, '/backends/b', body, async () => (await probe(s.port)).server === name));
  }
  return times;
}

/** haproxy -c on the installed config, then a reload of it through the master, until the new worker is up. */
async function structuralFloor(aq: RunningAqueduct): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < N / 2; i++) {
    const t0 = now();
    await run(HAPROXY_BIN, ['-c', '-q', '-f', aq.cfgPath]);
    const r = await reloadViaMaster(aq.masterSocket);
    if (!r.ok) throw new Error(r.message);
    times.push(now() - t0);
  }
  return times;
}

async function runtimeFloor(aq: RunningAqueduct): Promise<number[]> {
  const state = await sendCommand(aq.statsSocket, 'show servers state b');
  const server =
    state
      .split('\n')
      .find((l) => /^\d+ b /.test(l))
      ?.split(' ')[3] ?? '';
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = now();
    await sendCommand(aq.statsSocket, `set server b/${server} weight ${1 + (i % 2)}`);
    times.push(now() - t0);
  }
  return times;
}

async function burst(s: Scenario, api: ApiCall, round: number): Promise<{ total: number; each: number[] }> {
  const t0 = now();
  const each = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const t = now();
      const r = await api('PUT', `/backends/burst-${round}-${i}`, {
        type: 'static',
        members: [{ host: '127.0.0.1', port: s.echoes.get('extra-2')?.port }],
      });
      if (r.status !== 200) throw new Error(`burst PUT ${i}: ${r.status} ${r.text}`);
      return now() - t;
    }),
  );
  return { total: now() - t0, each };
}

out(`# PUT → served from the outside, default options (${machine()}, ${runs} runs)`);
for (let r = 1; r <= runs; r++) {
  await withAqueduct(async ({ s, aq, api }) => {
    const b = { type: 'static', members: [{ host: '127.0.0.1', port: s.echoes.get('live-1')?.port }] };
    await putUntil(api, '/backends/b', b, async () => true);
    await putUntil(
      api,
      '/frontends/f',
      { bind: `127.0.0.1:${s.port}`, backend: 'b' },
      async () => (await probe(s.port)).status === 200,
    );
    const { created, edited } = await structural(s, api);
    const member = await members(s, api);
    const floor = await structuralFloor(aq);
    const rtFloor = await runtimeFloor(aq);
    const b1 = await burst(s, api, r);
    const f50 = percentile(floor, 50);
    out(`run ${r}`);
    out(`  new frontend → served: ${stats(created)} (${(percentile(created, 50) / f50).toFixed(2)}× the floor)`);
    out(`  frontend edit → served: ${stats(edited)} (${(percentile(edited, 50) / f50).toFixed(2)}× the floor)`);
    out(`  floor, haproxy -c + reload of the same config: ${stats(floor)}`);
    out(`  member change → served: ${stats(member)}; floor, one runtime command: ${stats(rtFloor)}`);
    out(
      `  100 parallel PUTs: all answered in ${fmt(b1.total)}, each p50 ${fmt(percentile(b1.each, 50))}, p99 ${fmt(percentile(b1.each, 99))}`,
    );
  });
}
