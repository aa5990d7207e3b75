// A routing rule pointed at another existing backend, under load, with the
// default options: PUT sent → a new connection with that Host reaches the new
// backend (the API's time included), while keep-alive and new-connection
// clients send requests throughout; every failed request and every reload is
// counted. Beside it, in the same run, the same change on a rule a map cannot
// carry (a path with ';', kept as an ACL), which is a reload: the figure maps
// replaced. Usage: npx tsx bench/rule-change.bench.ts [runs]
import http from 'node:http';
import { showProcRetrying as showProc } from '../src/haproxy/master-socket.js';
import { apiClient, type ApiCall } from '../test/helpers/api.js';
import { apiUp, isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { scenario, type Scenario } from '../test/helpers/scenario.js';
import { fmt, machine, now, percentile } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
const CHANGES = 30;
const out = (line: string) => process.stdout.write(`${line}\n`);

/** One request through HAProxy: its status and answering server (0 and undefined when it failed). */
function request(port: number, host: string, path: string, agent: http.Agent | false) {
  return new Promise<{ status: number; server?: string }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const server = /"server":"([^"]+)"/.exec(body)?.[1];
        resolve({ status: res.statusCode ?? 0, ...(server && { server }) });
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.setTimeout(5000, () => req.destroy());
  });
}

/** Clients sending requests until stopped: half on keep-alive connections, half on new ones. */
function load(port: number) {
  let running = true;
  let sent = 0;
  let failed = 0;
  const client = async (agent: http.Agent | false) => {
    while (running) {
      const r = await request(port, 'a.test', '/', agent);
      sent++;
      if (r.status !== 200) failed++;
    }
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const clients = [client(agent), client(agent), client(false), client(false)];
  return async () => {
    running = false;
    await Promise.all(clients);
    agent.destroy();
    return { sent, failed };
  };
}

const frontendBody = (s: Scenario, host: string, odd: string) => ({
  bind: `127.0.0.1:${s.port}`,
  backend: 'live',
  rules: [
    { type: 'header', header: 'host', operation: 'hdr_dom', value: 'a.test', backend: host },
    { type: 'path', operation: 'path', value: '/x;y', backend: odd },
  ],
});

/** ms from each PUT until a new connection reaches the backend the changed rule names. */
async function changes(s: Scenario, api: ApiCall, which: 'host' | 'acl'): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const target = i % 2 === 0 ? 'staged' : 'live';
    const other = i % 2 === 0 ? 'live' : 'staged';
    const body = which === 'host' ? frontendBody(s, target, 'live') : frontendBody(s, 'live', target);
    const t0 = now();
    const r = await api('PUT', '/frontends/f', body);
    if (r.status !== 200) throw new Error(`PUT: ${r.status} ${r.text}`);
    const [host, path] = which === 'host' ? ['a.test', '/'] : ['b.test', '/x;y'];
    for (;;) {
      const served = (await request(s.port, host, path, false)).server ?? '';
      if (served.startsWith(target === 'live' ? 'live-' : 'staged-')) break;
      if (now() - t0 > 30_000) throw new Error(`not served within 30 s (still ${served}, was ${other})`);
    }
    times.push(now() - t0);
  }
  return times;
}

const stats = (xs: number[]) =>
  `p50 ${fmt(percentile(xs, 50))}, p99 ${fmt(percentile(xs, 99))}, max ${fmt(Math.max(...xs))}`;

out(`# rule change → served under load, default options (${machine()}, ${runs} runs, ${CHANGES} changes each)`);
for (let r = 1; r <= runs; r++) {
  const s = await scenario();
  const aq = await startAqueductProcess();
  const api = apiClient(aq.api);
  try {
    await apiUp(aq);
    for (const [name, member] of [
      ['live', 'live-1'],
      ['staged', 'staged-1'],
    ] as const)
      await api('PUT', `/backends/${name}?wait=applied`, {
        type: 'static',
        members: [{ host: '127.0.0.1', port: s.echoes.get(member)?.port }],
      });
    await api('PUT', '/frontends/f?wait=applied', frontendBody(s, 'live', 'live'));
    await aq.quiet(600);
    for (const which of ['host', 'acl'] as const) {
      const mark = aq.logs.length;
      const pid = (await showProc(aq.masterSocket)).workers[0];
      const stop = load(s.port);
      const times = await changes(s, api, which);
      await aq.quiet(600);
      const traffic = await stop();
      const reloads = aq.logs.slice(mark).filter(isApply('reload')).length;
      const samePid = (await showProc(aq.masterSocket)).workers[0] === pid;
      const label = which === 'host' ? 'Host rule, routing map' : 'path rule kept as an ACL';
      out(
        `run ${r} ${label}: ${stats(times)}; ${traffic.sent} requests, ${traffic.failed} failed; ${reloads} reloads${samePid ? ', same worker' : ''}`,
      );
    }
  } finally {
    await aq.stop();
    await s.close();
  }
}
