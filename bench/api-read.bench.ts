// API reads against a large manifest set: GET /backends latency with 1,000
// backends (10 members each), and Aqueduct's peak RSS while 30 GETs run at
// once. Peer in the same run: one cold read and parse of the directory,
// which is what every GET cost before reads were shared.
// Usage: npx tsx bench/api-read.bench.ts [runs]
import { execFileSync } from 'node:child_process';
import { ParseCache } from '../src/core/manifests/parse-cache.js';
import { readManifestDir } from '../src/sources/manifest-dir.js';
import { apiUp, isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { freePort } from '../test/helpers/haproxy.js';
import { fmt, machine, manifestSet, now, percentile, toYaml, writeAtomic } from './lib.js';

const BACKENDS = Number(process.env['BACKENDS'] ?? 1000);
const runs = Number(process.argv[2] ?? 3);
const out = (line: string) => process.stdout.write(`${line}\n`);
const rssMb = (pid: number) => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString()) / 1024;

async function oneRun(run: number): Promise<void> {
  const aq = await startAqueductProcess({ args: ['--resyncInterval', '0'] });
  try {
    await apiUp(aq);
    const text = toYaml(manifestSet({ backends: BACKENDS, serversPerBackend: 10, frontendPort: await freePort() }));
    await writeAtomic(aq.manifests, 'set.yaml', text);
    await aq.waitFor(isApply('reload'), 120_000, 0);
    const get = async () => {
      const res = await fetch(`${aq.api}/backends`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    };
    await get();
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = now();
      await get();
      latencies.push(now() - t);
    }
    const peerTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = now();
      new ParseCache().parse(await readManifestDir(aq.manifests));
      peerTimes.push(now() - t);
    }
    let peak = rssMb(aq.child.pid ?? 0);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(aq.child.pid ?? 0))), 50);
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 30 }, get));
    clearInterval(sampler);
    out(
      `run ${run} (${BACKENDS} backends, ${(text.length / 1e6).toFixed(1)} MB of YAML): GET /backends p50 ${fmt(percentile(latencies, 50))}, p90 ${fmt(percentile(latencies, 90))}; peer (a cold read + parse, what each GET did before) p50 ${fmt(percentile(peerTimes, 50))}; peak RSS with 30 GETs at once ${peak.toFixed(0)} MB`,
    );
  } finally {
    await aq.stop();
  }
}

out(`# API read bench on ${machine()}`);
for (let i = 1; i <= runs; i++) await oneRun(i);
