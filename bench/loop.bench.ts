// Benchmarks of the running loop: the real `aqueduct run` and a real HAProxy.
//   npx tsx bench/loop.bench.ts member-latency   member change → served (runtime path), p50/p99 over 200 changes
//   npx tsx bench/loop.bench.ts structural       structural change → served at 1k and 10k servers, against the floor
//   npx tsx bench/loop.bench.ts member-events    10k member events across 1k backends: reloads and time to converge
//   npx tsx bench/loop.bench.ts reload-load      1000 reloads under HTTP load: failed requests
//   npx tsx bench/loop.bench.ts rss              Aqueduct's RSS with 100k servers
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkConfigFile } from '../src/haproxy/check.js';
import { reloadViaMaster, showProcRetrying } from '../src/haproxy/master-socket.js';
import { sendCommand } from '../src/haproxy/socket-client.js';
import { heapInUse, isApply, startAqueductProcess, type RunningAqueduct } from '../test/helpers/aqueduct.js';
import { templateWithoutChecks } from '../test/helpers/fixtures.js';
import { freePort, HAPROXY_BIN, startEchoServer } from '../test/helpers/haproxy.js';
import { startLoad } from '../test/helpers/load.js';
import { fmt, machine, manifestSet, now, percentile, toYaml, writeAtomic } from './lib.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

async function withAqueduct<T>(args: string[], fn: (aq: RunningAqueduct) => Promise<T>): Promise<T> {
  const aq = await startAqueductProcess({ args: ['--resyncInterval', '0', ...args] });
  try {
    return await fn(aq);
  } finally {
    await aq.stop();
  }
}

/** Writes one file per backend plus the frontend, so a member event touches one small file. */
async function writeSplit(dir: string, docs: object[]): Promise<void> {
  await Promise.all(
    docs.map((d, i) => writeAtomic(dir, `${i === 0 ? 'frontend' : `backend-${i - 1}`}.yaml`, toYaml([d]))),
  );
}

async function memberLatency(): Promise<void> {
  const echoes = await Promise.all(Array.from({ length: 8 }, (_, i) => startEchoServer(`m${i}`)));
  const port = await freePort();
  await withAqueduct([], async (aq) => {
    const frontend = {
      apiVersion: 'aqueduct/v1',
      kind: 'Frontend',
      metadata: { name: 'f' },
      spec: { bind: `127.0.0.1:${port}`, backend: 'b' },
    };
    const backend = (members: number[]) => ({
      apiVersion: 'aqueduct/v1',
      kind: 'Backend',
      metadata: { name: 'b' },
      spec: { type: 'static', members: members.map((p) => ({ host: '127.0.0.1', port: p })) },
    });
    const ports = echoes.map((e) => e.port);
    await writeAtomic(aq.manifests, 'f.yaml', toYaml([frontend, backend([0, 1, 2, 3].map((k) => ports[k] as number))]));
    await aq.waitFor(isApply('reload'), 20_000, 0);
    await aq.quiet(500);
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      // Slide a window of 4 over the 8 members: each change drops one member and adds another.
      const members = [0, 1, 2, 3].map((k) => ports[(i + 1 + k) % ports.length] as number);
      const incoming = members[3] as number;
      const name = `b_127.0.0.1:${incoming}`;
      const t0 = now();
      await writeAtomic(aq.manifests, 'f.yaml', toYaml([frontend, backend(members)]));
      for (;;) {
        const state = await sendCommand(aq.statsSocket, 'show servers state b');
        const line = state.split('\n').find((l) => l.includes(` ${name} `));
        if (line !== undefined && line.split(/\s+/)[6] === '0') break;
        if (now() - t0 > 10_000)
          throw new Error(
            `change ${i}: ${name} not served after 10 s; members ${members.join(',')}; last logs ${aq.logs
              .slice(-12)
              .map((l) => `${String(l.msg).slice(0, 160)} ${l.error ?? ''} ${l.err ?? ''}`)
              .join(' | ')}`,
          );
      }
      latencies.push(now() - t0);
    }
    const reloads = aq.logs.filter(isApply('reload')).length - 1;
    out(
      `member change → served over ${latencies.length} changes: p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(Math.max(...latencies))}; reloads: ${reloads}`,
    );
  });
  await Promise.all(echoes.map((e) => e.close()));
}

async function structural(): Promise<void> {
  for (const [backends, per] of [
    [100, 10],
    [1000, 10],
  ] as const) {
    const port = await freePort();
    await withAqueduct(['--minReloadInterval', '0'], async (aq) => {
      await writeSplit(
        aq.manifests,
        manifestSet({ backends, serversPerBackend: per, frontendPort: port, marker: 'm0' }),
      );
      await aq.waitFor(isApply('reload'), 60_000, 0);
      await aq.quiet(500);
      const served: number[] = [];
      const floors: number[] = [];
      for (let i = 1; i <= 5; i++) {
        // Aqueduct: edit → watch → render → plan → haproxy -c → install → reload → new worker.
        const mark = aq.logs.length;
        const before = (await showProcRetrying(aq.masterSocket)).workers;
        const t0 = now();
        await writeAtomic(
          aq.manifests,
          'frontend.yaml',
          toYaml([manifestSet({ backends, serversPerBackend: per, frontendPort: port, marker: `m${i}` })[0] as object]),
        );
        const applied = await aq.waitFor(isApply('reload'), 60_000, mark);
        served.push(now() - t0);
        if (before.includes(applied.workerPid as number)) throw new Error('no new worker');
        await aq.quiet(300);
        // The floor, on the same config and the same HAProxy: haproxy -c, then reload and wait for the new worker.
        const f0 = now();
        const check = await checkConfigFile(HAPROXY_BIN, aq.cfgPath);
        if (!check.ok) throw new Error(check.output);
        const outcome = await reloadViaMaster(aq.masterSocket);
        if (!outcome.ok) throw new Error(outcome.message);
        floors.push(now() - f0);
        await aq.quiet(300);
      }
      const s = percentile(served, 50);
      const f = percentile(floors, 50);
      out(
        `${backends * per} servers: structural change → served ${fmt(s)} [${served.map(fmt).join(', ')}]; floor (haproxy -c + reload) ${fmt(f)} [${floors.map(fmt).join(', ')}]; ratio ${(s / f).toFixed(2)}`,
      );
    });
  }
}

async function memberEvents(): Promise<void> {
  const port = await freePort();
  const backends = 1000;
  await withAqueduct(['--minReloadInterval', '1000'], async (aq) => {
    await writeSplit(aq.manifests, manifestSet({ backends, serversPerBackend: 10, frontendPort: port }));
    await aq.waitFor(isApply('reload'), 60_000, 0);
    await aq.quiet(500);
    const mark = aq.logs.length;
    // 10 rounds, each changing one member in every backend: 10,000 member events. Their YAML is
    // produced before the clock starts: the writer's own serialising is not Aqueduct's time.
    const rounds = Array.from({ length: 10 }, (_, r) =>
      manifestSet({ backends, serversPerBackend: 10, frontendPort: port, changeEvery: 1, generation: r + 1 })
        .slice(1)
        .map((d) => toYaml([d])),
    );
    const t0 = now();
    for (const texts of rounds)
      await Promise.all(texts.map((text, i) => writeAtomic(aq.manifests, `backend-${i}.yaml`, text)));
    const written = now() - t0;
    const last = `b999_127.0.${1 + (999 % 250)}.${1 + Math.floor(999 / 250)}:${20000 + 10 * 1000}`;
    const expected = await readFile(path.join(aq.manifests, 'backend-999.yaml'), 'utf8');
    if (!expected.includes(String(20000 + 10000))) throw new Error('last round not written');
    let served: number | undefined;
    for (;;) {
      const state = await sendCommand(aq.statsSocket, 'show servers state b999');
      if (state.includes(` ${last} `)) served ??= now() - t0;
      if (served !== undefined && (await readFile(aq.cfgPath, 'utf8')).includes(last)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const installed = now() - t0;
    await aq.quiet(500);
    const converged = now() - t0;
    out(
      `  the benchmark wrote the 10,000 events (1,000 files × 10 rounds) in ${fmt(written)}; HAProxy served the last one after ${fmt(served ?? NaN)}; the config file recording it was installed after ${fmt(installed)}`,
    );
    const after = aq.logs.slice(mark);
    for (const r of after.filter(isApply('reload')))
      out(`  reload: ${JSON.stringify(r['reasons'])} (triggers ${JSON.stringify(r['triggers'])})`);
    out(
      `10,000 member events across ${backends} backends: converged in ${fmt(converged)} (including 500 ms of quiet to count applies); reloads ${after.filter(isApply('reload')).length}; runtime applies ${after.filter(isApply('runtime')).length}, ${after.filter(isApply('runtime')).reduce((n, l) => n + Number(l['commands'] ?? 0), 0)} runtime commands`,
    );
  });
}

async function reloadUnderLoad(): Promise<void> {
  const count = Number(process.env['RELOADS'] ?? 1000);
  const echoes = await Promise.all([startEchoServer('a'), startEchoServer('b')]);
  const port = await freePort();
  await withAqueduct(['--minReloadInterval', '0'], async (aq) => {
    const docs = (gen: number) => [
      {
        apiVersion: 'aqueduct/v1',
        kind: 'Frontend',
        metadata: { name: 'f' },
        spec: { bind: `127.0.0.1:${port}`, backend: 'b', natives: [`http-response set-header X-Gen ${gen}`] },
      },
      {
        apiVersion: 'aqueduct/v1',
        kind: 'Backend',
        metadata: { name: 'b' },
        spec: { type: 'static', members: echoes.map((e) => ({ host: '127.0.0.1', port: e.port })) },
      },
    ];
    await writeAtomic(aq.manifests, 'm.yaml', toYaml(docs(0)));
    await aq.waitFor(isApply('reload'), 20_000, 0);
    const load = startLoad(port, { keepAlive: 24, fresh: 6 });
    const t0 = now();
    for (let gen = 1; gen <= count; gen++) {
      const mark = aq.logs.length;
      await writeAtomic(aq.manifests, 'm.yaml', toYaml(docs(gen)));
      await aq.waitFor((l) => isApply('reload')(l) || isApply('reload', 'failed')(l), 20_000, mark);
      // Trim the kept log so a thousand reloads do not grow the harness's memory.
      if (aq.logs.length > 5000) aq.logs.splice(0, aq.logs.length - 1000);
    }
    const result = await load.stop();
    const failedReloads = aq.logs.filter(isApply('reload', 'failed')).length;
    out(
      `${count} reloads in ${fmt(now() - t0)} under load: ${result.ok} requests ok, ${result.failed} failed ${JSON.stringify([...result.errors])}; failed reloads ${failedReloads}`,
    );
  });
  await Promise.all(echoes.map((e) => e.close()));
}

/** Aqueduct's resident and peak memory, from the kernel, and its heap in use, from its /metrics. */
async function rssOf(aq: RunningAqueduct): Promise<{ rss: number; peak: number; heap: number }> {
  const st = await readFile(`/proc/${aq.child.pid}/status`, 'utf8');
  const mb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) / 1024;
  const heap = (await heapInUse(aq)) / 2 ** 20;
  return { rss: mb('VmRSS'), peak: mb('VmHWM'), heap };
}

/**
 * Memory once a step is over: 3 s after Aqueduct last logged, and 10 s after,
 * when the idle collector's settling collection has run (src/idle-collector.ts).
 */
async function settledMemory(aq: RunningAqueduct): Promise<string> {
  await aq.quiet(3000);
  const soon = await rssOf(aq);
  await new Promise((r) => setTimeout(r, 7000));
  const settled = await rssOf(aq);
  const heaps = `heap in use ${soon.heap.toFixed(0)} / ${settled.heap.toFixed(0)} MB`;
  return `RSS ${soon.rss.toFixed(0)} MB 3 s after, ${settled.rss.toFixed(0)} MB 10 s after (peak ${settled.peak.toFixed(0)} MB; ${heaps})`;
}

async function rss(): Promise<void> {
  const port = await freePort();
  // HAProxy needs a file descriptor per health check: 100k checks exceed this machine's hard limit (20,000), so
  // the benchmark's template leaves them out; Aqueduct's own work is the same either way.
  const template = await templateWithoutChecks(await mkdtemp(path.join(tmpdir(), 'aqueduct-bench-')));
  await withAqueduct(['--templateFile', template], async (aq) => {
    const shape = { backends: 1000, serversPerBackend: 100, frontendPort: port };
    await writeSplit(aq.manifests, manifestSet(shape));
    const t0 = now();
    const first = await aq.waitFor(
      (l) => (isApply('reload')(l) || isApply('reload', 'failed')(l)) && JSON.stringify(l.reasons).includes('bench'),
      300_000,
      0,
    );
    if (first.result === 'failed')
      throw new Error(`HAProxy refused 100k servers: ${String(first.error).slice(0, 500)}`);
    const firstApply = now() - t0;
    const applied = await settledMemory(aq);
    // 1,000 member events: one member changed in every backend, one file each.
    const mark = aq.logs.length;
    const changed = manifestSet({ ...shape, changeEvery: 1, generation: 1 });
    const t1 = now();
    await Promise.all(changed.slice(1).map((d, i) => writeAtomic(aq.manifests, `backend-${i}.yaml`, toYaml([d]))));
    const last = `b999_127.0.${1 + (999 % 250)}.${1 + Math.floor(999 / 250)}:${20000 + 1000}`;
    for (;;) {
      if ((await sendCommand(aq.statsSocket, 'show servers state b999')).includes(` ${last} `)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const served = now() - t1;
    await aq.waitFor(isApply('runtime'), 120_000, mark);
    const events = await settledMemory(aq);
    const after = aq.logs.slice(mark);
    out(
      `100,000 servers: first apply ${fmt(firstApply)}; Aqueduct ${applied}; after 1,000 member events (served ${fmt(served)} after the first was written; ${after.filter(isApply('runtime')).length} runtime applies, ${after.filter(isApply('reload')).length} reloads): ${events}`,
    );
  });
}

const which = process.argv[2] ?? '';
const benches: Record<string, () => Promise<void>> = {
  'member-latency': memberLatency,
  structural,
  'member-events': memberEvents,
  'reload-load': reloadUnderLoad,
  rss,
};
const bench = benches[which];
if (bench === undefined) {
  out(`usage: npx tsx bench/loop.bench.ts ${Object.keys(benches).join('|')}`);
  process.exit(2);
}
out(`# ${which} (${machine()}, HAProxy at ${HAPROXY_BIN})`);
await bench();
await writeFile('/dev/null', '');
