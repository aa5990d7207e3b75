// A routing rule pointed at another existing backend, under load, with the
// default options: PUT sent → a new connection with that Host reaches the new
// backend (the API's time included), while keep-alive and new-connection
// clients send requests throughout; every failed request and every reload is
// counted. Beside it, in the same run, the same change on a rule a map cannot
// carry (a path with ';', kept as an ACL), which is a reload: the figure maps
// replaced. Usage: npx tsx bench/rule-change.bench.ts [runs] (SHOW=1 prints
// each change's served/answered ms)
import http from 'node:http';
import { showProcRetrying as showProc } from '../src/haproxy/master-socket.js';
import type { ApiCall } from '../test/helpers/api.js';
import { isApply } from '../test/helpers/aqueduct.js';
import type { Scenario } from '../test/helpers/scenario.js';
import { withAqueduct } from './api-run.js';
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

/** The frontend; `round` adds a rule of its own, so that no two changes are the same bytes (none is checked from a cache). */
const frontendBody = (s: Scenario, host: string, odd: string, round = 0) => ({
  bind: `127.0.0.1:${s.port}`,
  backend: 'live',
  rules: [
    { type: 'header', header: 'host', operation: 'hdr_dom', value: 'a.test', backend: host },
    { type: 'header', header: 'host', operation: 'hdr_dom', value: `round-${round}.test`, backend: 'live' },
    { type: 'path', operation: 'path', value: '/x;y', backend: odd },
  ],
});

/** ms from each PUT until a new connection reaches the backend the changed rule names, and until the PUT's answer. */
async function changes(
  s: Scenario,
  api: ApiCall,
  which: 'host' | 'acl',
): Promise<{ times: number[]; answers: number[] }> {
  const times: number[] = [];
  const answers: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const target = i % 2 === 0 ? 'staged' : 'live';
    const other = i % 2 === 0 ? 'live' : 'staged';
    const round = which === 'host' ? i + 1 : CHANGES + i + 1;
    const body = which === 'host' ? frontendBody(s, target, 'live', round) : frontendBody(s, 'live', target, round);
    const t0 = now();
    const r = await api('PUT', '/frontends/f', body);
    if (r.status !== 200) throw new Error(`PUT: ${r.status} ${r.text}`);
    answers.push(now() - t0);
    const [host, path] = which === 'host' ? ['a.test', '/'] : ['b.test', '/x;y'];
    for (;;) {
      const served = (await request(s.port, host, path, false)).server ?? '';
      if (served.startsWith(target === 'live' ? 'live-' : 'staged-')) break;
      if (now() - t0 > 30_000) throw new Error(`not served within 30 s (still ${served}, was ${other})`);
    }
    times.push(now() - t0);
  }
  return { times, answers };
}

const stats = (xs: number[]) =>
  `p50 ${fmt(percentile(xs, 50))}, p99 ${fmt(percentile(xs, 99))}, max ${fmt(Math.max(...xs))}`;

out(`# rule change → served under load, default options (${machine()}, ${runs} runs, ${CHANGES} changes each)`);
for (let r = 1; r <= runs; r++) {
  await withAqueduct(async ({ s, aq, api }) => {
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
      const { times, answers } = await changes(s, api, which);
      if (process.env['SHOW']) out(times.map((t, i) => `${t.toFixed(0)}/${answers[i]?.toFixed(0)}`).join(' '));
      await aq.quiet(600);
      const traffic = await stop();
      const reloads = aq.logs.slice(mark).filter(isApply('reload')).length;
      const samePid = (await showProc(aq.masterSocket)).workers[0] === pid;
      const label = which === 'host' ? 'Host rule, routing map' : 'path rule kept as an ACL';
      out(
        `run ${r} ${label}: ${stats(times)} (PUT answered: p50 ${fmt(percentile(answers, 50))}); ${traffic.sent} requests, ${traffic.failed} failed; ${reloads} reloads${samePid ? ', same worker' : ''}`,
      );
    }
  });
}
