// Render + plan time divided by `haproxy -c` time, at 10k and 100k servers
// (target ≤ 0.1), the loop's way: desired objects built only for the
// manifests that changed (the others are the parse cache's same objects),
// their text rendered again only for those (incremental-render.ts), and the
// plan. Also reported: the same render and plan from nothing (renderConfig,
// as a check or a preview of a whole new set pays), and YAML loading of the
// whole set, which the reconciler pays only for files whose text changed.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildDesiredState, desiredStateBuilder } from '../src/core/rendering/desired-state.js';
import { renderer } from '../src/core/rendering/incremental-render.js';
import type { BackendManifest, FrontendManifest } from '../src/core/manifests/model.js';
import { loadManifestSet } from '../src/core/manifests/manifests.js';
import { planChanges, planner } from '../src/core/planning/plan.js';
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
  /** The manifests of a generation: those of backends that did not change are the same objects (the parse cache's). */
  let kept: { frontends: FrontendManifest[]; backends: BackendManifest[] } | undefined;
  const manifests = (generation: number) => {
    const t = now();
    const shape = worst
      ? { backends, serversPerBackend: perBackend, frontendPort: 18000, portOffset: generation }
      : { backends, serversPerBackend: perBackend, frontendPort: 18000, changeEvery: 100, generation };
    const set = loadManifestSet([{ path: 'm.yaml', text: toYaml(manifestSet(shape)) }]);
    const fresh = { frontends: set.frontends.map((f) => f.manifest), backends: set.backends.map((x) => x.manifest) };
    const changed = (i: number) => worst || i % 100 === 0;
    const next =
      kept === undefined
        ? fresh
        : { ...kept, backends: kept.backends.map((b, i) => (changed(i) ? (fresh.backends[i] as BackendManifest) : b)) };
    kept = next;
    return { m: next, loadMs: now() - t };
  };
  const options = { statsSocketPath: '/tmp/bench.sock' };
  const loads: number[] = [];
  const renderPlan: number[] = [];
  const wholeRenderPlan: number[] = [];
  const checks: number[] = [];
  const [build, render, plan] = [desiredStateBuilder(), renderer(), planner()];
  const first = manifests(0).m;
  let applied = render(DEFAULT_TEMPLATE, build(first.frontends, first.backends, {}), options);
  plan(applied, applied);
  for (let run = 1; run <= RUNS; run++) {
    const next = manifests(run);
    loads.push(next.loadMs);
    // Collect the YAML load's garbage first, so the timing is render + plan's own cost (its own GC included).
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = now();
    const candidate = render(DEFAULT_TEMPLATE, build(next.m.frontends, next.m.backends, {}), options);
    const p = plan(applied, candidate);
    renderPlan.push(now() - t0);
    if (p.kind !== 'runtime') throw new Error(`expected a runtime plan, got ${p.kind}`);
    (globalThis as { gc?: () => void }).gc?.();
    const w0 = now();
    const whole = renderConfig(DEFAULT_TEMPLATE, buildDesiredState(next.m.frontends, next.m.backends, {}), options);
    planChanges(applied, whole);
    wholeRenderPlan.push(now() - w0);
    if (whole !== candidate) throw new Error('the incremental render differs from the whole one');
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
  const whole = percentile(wholeRenderPlan, 50);
  process.stdout.write(
    `${servers} servers: the loop's render+plan ${fmt(rp)} [${renderPlan.map(fmt).join(', ')}]; haproxy -c ${fmt(c)} [${checks.map(fmt).join(', ')}]; ratio ${(rp / c).toFixed(3)}; from nothing ${fmt(whole)} (ratio ${(whole / c).toFixed(3)}); YAML load + validate of all files ${fmt(percentile(loads, 50))}\n`,
  );
}
