// The stats stream with 10,000 servers (1,000 backends of 10): Aqueduct's CPU
// share and the bytes per second a WebSocket client receives, when nothing
// changes and when 1% of the servers flap (maint/ready through the runtime
// API every poll interval). Usage: npx tsx bench/stream.bench.ts [seconds]
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import { sendCommand } from '../src/haproxy/socket-client.js';
import { isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { freePort } from '../test/helpers/haproxy.js';
import { machine, manifestSet, toYaml, writeAtomic } from './lib.js';

const seconds = Number(process.argv[2] ?? 20);
const out = (line: string) => process.stdout.write(`${line}\n`);

/** CPU seconds (user + system) a process has used, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

const aq = await startAqueductProcess({ args: ['--resyncInterval', '0', '--statsInterval', '2000'] });
try {
  const docs = manifestSet({ backends: 1000, serversPerBackend: 10, frontendPort: await freePort() });
  await writeAtomic(aq.manifests, 'all.yaml', toYaml(docs));
  await aq.waitFor(isApply('reload'), 120_000, 0);
  await aq.quiet(2000);
  // Health checks of 10,000 servers on one machine fail now and then (SOCKERR) and would make "idle" flap:
  // turn them off, so idle is idle and the flapping is only the one we make.
  const all = (await sendCommand(aq.statsSocket, 'show servers state'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => /^b\d+$/.test(f[1] ?? ''))
    .map((f) => `${f[1]}/${f[3]}`);
  for (let i = 0; i < all.length; i += 200)
    await sendCommand(
      aq.statsSocket,
      all
        .slice(i, i + 200)
        .map((n) => `disable health ${n}`)
        .join('; '),
    );
  await new Promise((r) => setTimeout(r, 3000));
  const pid = aq.child.pid as number;
  const ws = new WebSocket(`${aq.api.replace('http', 'ws')}/stream`);
  let bytes = 0;
  let messages = 0;
  let snapshotBytes = 0;
  ws.on('message', (data: Buffer) => {
    if (snapshotBytes === 0) snapshotBytes = data.length;
    else {
      bytes += data.length;
      if (process.env['SHOW'] !== undefined && messages < 2) {
        const m = JSON.parse(data.toString()) as { changed?: unknown[] };
        out(`sample delta: ${(m.changed ?? []).length} changed, first: ${JSON.stringify(m.changed?.[0])}`);
      }
    }
    messages++;
  });
  await new Promise((r) => ws.once('open', r));
  while (snapshotBytes === 0) await new Promise((r) => setTimeout(r, 50));

  const measure = async (label: string, flap: (tick: number) => Promise<void>) => {
    bytes = 0;
    messages = 0;
    const cpu0 = await cpuSeconds(pid);
    const t0 = Date.now();
    let tick = 0;
    while (Date.now() - t0 < seconds * 1000) {
      await flap(tick++);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const wall = (Date.now() - t0) / 1000;
    const cpu = (await cpuSeconds(pid)) - cpu0;
    out(
      `${label}: Aqueduct CPU ${((cpu / wall) * 100).toFixed(1)}% of one core; stream ${(bytes / wall / 1024).toFixed(1)} KiB/s in ${messages} messages over ${wall.toFixed(0)} s`,
    );
  };

  out(`${machine()}; 10,000 servers; snapshot ${(snapshotBytes / 1024).toFixed(0)} KiB`);
  await measure('idle', async () => undefined);
  // 1% of the servers: the first member of every 10th backend... and of the next 9 (100 servers), toggled each tick.
  const flapping = new Set(Array.from({ length: 100 }, (_, i) => `b${i * 10}`));
  const names = (await sendCommand(aq.statsSocket, 'show servers state'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => flapping.has(f[1] ?? '') && f[2] === '1')
    .map((f) => `${f[1]}/${f[3]}`);
  if (names.length !== 100) throw new Error(`expected 100 servers to flap, found ${names.length}`);
  await measure('1% flapping', async (tick) => {
    const state = tick % 2 === 0 ? 'maint' : 'ready';
    // One connection for all: the CLI takes commands separated by ';'.
    await sendCommand(aq.statsSocket, names.map((n) => `set server ${n} state ${state}`).join('; '));
  });
  ws.close();
} finally {
  await aq.stop();
}
