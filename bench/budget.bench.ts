// The reload budget with default options: back-to-back structural PUTs, each
// waiting until HAProxy serves it (latency), and a storm of 200 structural
// changes in 2 s written as files (reloads). Beside it, in the same run, the
// fixed interval it replaced (--minReloadInterval 1000 --reloadBurst 1).
// Usage: npx tsx bench/budget.bench.ts [runs]
import { apiUp, isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { apiClient } from '../test/helpers/api.js';
import { scenario } from '../test/helpers/scenario.js';
import { eventually } from '../test/helpers/wait.js';
import { fmt, machine, now, percentile } from './lib.js';

const PUTS = 30;
const STORM = 200;
const runs = Number(process.argv[2] ?? 3);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function measure(label: string, args: string[]): Promise<void> {
  const s = await scenario();
  const aq = await startAqueductProcess({ args });
  const api = apiClient(aq.api);
  try {
    await apiUp(aq);
    await s.write(aq.manifests, 'app.yaml', ...s.myapp());
    await aq.waitFor(isApply('reload'), 15_000, 0);
    await api('PUT', '/backends/b', {
      type: 'static',
      members: [{ host: '127.0.0.1', port: s.echoes.get('live-1')?.port }],
    });
    const latencies: number[] = [];
    for (let i = 0; i < PUTS; i++) {
      const started = now();
      const r = await api('PUT', '/frontends/f?wait=applied', {
        bind: `127.0.0.1:${s.port + 1}`,
        backend: 'b',
        natives: [`http-request set-header X-Put ${i}`],
      });
      if (r.status !== 200) throw new Error(r.text);
      latencies.push(now() - started);
    }
    const mark = aq.logs.length;
    const stormStart = now();
    for (let i = 0; i < STORM; i++) {
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({ natives: [`http-request set-header X-Storm ${i}`] }));
      const due = stormStart + ((i + 1) * 2000) / STORM;
      while (now() < due) await new Promise((r) => setTimeout(r, 1));
    }
    await eventually(
      async () => (await api('GET', '/haproxy/config')).text,
      (t) => t.includes(`X-Storm ${STORM - 1}`),
      15_000,
    );
    const reloads = aq.logs.slice(mark).filter(isApply('reload')).length;
    if (process.env['DEBUG_STORM'] !== undefined)
      for (const l of aq.logs.slice(mark).filter((x) => typeof x.msg === 'string' && x.msg.startsWith('apply ')))
        out(
          `    ${String(l['time'])} ${l.msg} ${JSON.stringify(l['triggers'])} ${String(l['durationMs'])} ${JSON.stringify(l.reasons?.slice(-1))}`,
        );
    out(
      `  ${label}: PUT → served p50 ${fmt(percentile(latencies, 50))}, p90 ${fmt(percentile(latencies, 90))}, max ${fmt(Math.max(...latencies))}; storm of ${STORM} in 2 s: ${reloads} reloads, last change served ${fmt(now() - stormStart)} after the storm began`,
    );
  } finally {
    await aq.stop();
    await s.close();
  }
}

out(`# reload budget bench on ${machine()}`);
for (let i = 1; i <= runs; i++) {
  out(`run ${i}:`);
  await measure('defaults (coalescing + token bucket)', []);
  await measure('before: fixed 1 s interval', ['--minReloadInterval', '1000', '--reloadBurst', '1']);
}
