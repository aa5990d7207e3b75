// Render + plan time divided by `haproxy -c` time, at 10k and 100k servers
// (target ≤ 0.1). Also reported: YAML loading of the whole set, which the
// reconciler pays only for files whose text changed (it caches the rest).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildDesiredState } from '../src/core/rendering/desired-state.js';
import { loadManifestSet } from '../src/core/manifests/manifests.js';
import { planChanges } from '../src/core/planning/plan.js';
import { renderConfig } from '../src/core/rendering/render.js';
import { checkConfigFile } from '../src/haproxy/check.js';
import { stageRouteMaps } from '../src/haproxy/route-map-files.js';
import { DEFAULT_TEMPLATE } from '../test/helpers/render.js';
import { HAPROXY_BIN } from '../test/helpers/haproxy.js';
import { fmt, machine, manifestSet, now, percentile, toYaml } from './lib.js';

const RUNS = Number(process.env['RUNS'] ?? 5);
process.stdout.write(
  `# render + plan vs haproxy -c (${machine()}, ${RUNS} runs, medians${process.env['WORST'] === '1' ? ', every member changed' : ', one member changed in 1% of backends'})\n`,
);

for (const [backends, perBackend] of [
  [1000, 10],
  [1000, 100],
] as const) {
  const servers = backends * perBackend;
  // A typical reconcile: one member changed in 1% of the backends. WORST=1 changes every member.
  const worst = process.env['WORST'] === '1';
  const state = (generation: number) => {
    const t = now();
    const shape = worst
      ? { backends, serversPerBackend: perBackend, frontendPort: 18000, portOffset: generation }
      : { backends, serversPerBackend: perBackend, frontendPort: 18000, changeEvery: 100, generation };
    const set = loadManifestSet([{ path: 'm.yaml', text: toYaml(manifestSet(shape)) }]);
    const s = buildDesiredState(
      set.frontends.map((f) => f.manifest),
      set.backends.map((x) => x.manifest),
      {},
    );
    return { s, loadMs: now() - t };
  };
  const options = { statsSocketPath: '/tmp/bench.sock' };
  const loads: number[] = [];
  const renderPlan: number[] = [];
  const checks: number[] = [];
  let applied = renderConfig(DEFAULT_TEMPLATE, state(0).s, options);
  for (let run = 1; run <= RUNS; run++) {
    const next = state(run);
    loads.push(next.loadMs);
    // Collect the YAML load's garbage first, so the timing is render + plan's own cost (its own GC included).
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = now();
    const candidate = renderConfig(DEFAULT_TEMPLATE, next.s, options);
    const plan = planChanges(applied, candidate);
    renderPlan.push(now() - t0);
    if (plan.kind !== 'runtime') throw new Error(`expected a runtime plan, got ${plan.kind}`);
    const file = path.join(os.tmpdir(), `bench-${servers}.cfg`);
    await writeFile(file, await stageRouteMaps(candidate, `${file}.maps`));
    const c0 = now();
    const check = await checkConfigFile(HAPROXY_BIN, file);
    checks.push(now() - c0);
    if (!check.ok) throw new Error(check.output);
    applied = candidate;
  }
  const rp = percentile(renderPlan, 50);
  const c = percentile(checks, 50);
  process.stdout.write(
    `${servers} servers: render+plan ${fmt(rp)} [${renderPlan.map(fmt).join(', ')}]; haproxy -c ${fmt(c)} [${checks.map(fmt).join(', ')}]; ratio ${(rp / c).toFixed(3)}; YAML load + validate + desired state of all files ${fmt(percentile(loads, 50))}\n`,
  );
}
