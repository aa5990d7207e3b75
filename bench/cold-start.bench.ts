// Cold start → first apply served, 10,000 servers (1,000 backend files), against
// the floor measured in the same run: `haproxy -c` on the same config plus
// starting HAProxy on it until its frontend accepts a connection.
//   npx tsx bench/cold-start.bench.ts [runs]
// "Fresh" starts with an empty state directory; "restart" starts again on the
// state the previous run left (a container restarted beside its volume).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { checkConfigFile } from '../src/haproxy/check.js';
import { isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { freePort, HAPROXY_BIN, waitForPort } from '../test/helpers/haproxy.js';
import { tempDir } from '../test/helpers/fixtures.js';
import { fmt, machine, manifestSet, now, percentile, toYaml, writeAtomic } from './lib.js';

const RUNS = Number(process.argv[2] ?? 3);
const out = (line: string) => process.stdout.write(`${line}\n`);
/** Polled every 5 ms: the figures' resolution. */
const accepting = (port: number) => waitForPort(port, 60_000, 5);

/** Aqueduct from spawn until HAProxy serves the frontend; the installed config is kept for the floor. */
async function aqueduct(dir: string, port: number, cfgCopy: string): Promise<number> {
  const t0 = now();
  const aq = await startAqueductProcess({ dir, args: ['--resyncInterval', '0'] });
  try {
    await accepting(port);
    const served = now() - t0;
    await aq.waitFor(isApply('reload'), 60_000, 0);
    await cp(aq.cfgPath, cfgCopy);
    return served;
  } finally {
    await aq.stop();
  }
}

/** haproxy -c, then HAProxy started on the same file until the frontend accepts. */
async function floor(cfg: string, port: number): Promise<number> {
  const t0 = now();
  const check = await checkConfigFile(HAPROXY_BIN, cfg);
  if (!check.ok) throw new Error(check.output);
  const child = spawn(HAPROXY_BIN, ['-W', '-db', '-f', cfg], { stdio: 'ignore' });
  try {
    await accepting(port);
    return now() - t0;
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

out(`# cold start → first apply served, 10,000 servers (${machine()}, ${RUNS} runs)`);
const port = await freePort();
const docs = manifestSet({ backends: 1000, serversPerBackend: 10, frontendPort: port });
const fresh: number[] = [];
const restart: number[] = [];
const floors: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const dir = await tempDir('aqueduct-cold-');
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests);
  await Promise.all(
    docs.map((d, i) => writeAtomic(manifests, `${i === 0 ? 'frontend' : `backend-${i - 1}`}.yaml`, toYaml([d]))),
  );
  const cfg = path.join(dir, 'served.cfg');
  fresh.push(await aqueduct(dir, port, cfg));
  restart.push(await aqueduct(dir, port, cfg));
  floors.push(await floor(cfg, port));
  out(
    `run ${run}: fresh ${fmt(fresh.at(-1) ?? NaN)}, restart ${fmt(restart.at(-1) ?? NaN)}, floor (haproxy -c + start) ${fmt(floors.at(-1) ?? NaN)}`,
  );
  await rm(dir, { recursive: true, force: true });
}
const f = percentile(floors, 50);
out(
  `medians: fresh ${fmt(percentile(fresh, 50))} (${(percentile(fresh, 50) / f).toFixed(2)}× the floor), restart ${fmt(percentile(restart, 50))} (${(percentile(restart, 50) / f).toFixed(2)}×), floor ${fmt(f)}; target ≤ 2×`,
);
