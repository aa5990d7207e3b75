// A real Aqueduct gives its heap back once a big run is over: the garbage of
// reading, checking and rendering thousands of servers is collected when the
// process goes idle (src/idle-collector.ts), not left to V8's own schedule,
// which at 100k servers kept ~250 MB of heap for half a minute or more.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { heapInUse, isApply, startAqueductProcess, type LogLine } from '../helpers/aqueduct.js';
import { tempDir, templateWithoutChecks } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { eventually } from '../helpers/wait.js';

const MB = 2 ** 20;

/** One file per backend, `servers` members each, and a frontend routing a path to each. */
async function writeManyServers(dir: string, backends: number, servers: number, port: number): Promise<void> {
  const backend = (b: number) => ({
    apiVersion: 'aqueduct/v1',
    kind: 'Backend',
    metadata: { name: `b${b}` },
    spec: {
      type: 'static',
      health: { interval: 60_000 },
      members: Array.from({ length: servers }, (_, s) => ({
        host: `127.0.${9 + Math.floor(b / 250)}.${1 + (b % 250)}`,
        port: 20_000 + s,
      })),
    },
  });
  const rules = Array.from({ length: backends }, (_, b) => ({ type: 'path', operation: 'path_beg', value: `/b${b}/` }));
  const frontend = {
    apiVersion: 'aqueduct/v1',
    kind: 'Frontend',
    metadata: { name: 'many' },
    spec: { bind: `127.0.0.1:${port}`, backend: 'b0', rules: rules.map((r, b) => ({ ...r, backend: `b${b}` })) },
  };
  await Promise.all(
    Array.from({ length: backends }, (_, b) => writeFile(path.join(dir, `b${b}.yaml`), stringify(backend(b)))),
  );
  await writeFile(path.join(dir, 'many.yaml'), stringify(frontend));
}

describe('memory', () => {
  it('collects the garbage of a big run once idle, then settles the heap to what lives', async () => {
    const dir = await tempDir('aqueduct-memory-');
    await mkdir(path.join(dir, 'manifests'));
    await writeManyServers(path.join(dir, 'manifests'), 800, 50, await freePort());
    const template = await templateWithoutChecks(dir);
    const args = ['--logLevel', 'debug', '--resyncInterval', '0', '--templateFile', template];
    const aq = await startAqueductProcess({ dir, args });
    try {
      await aq.waitFor(isApply('reload'), 60_000, 0);
      // The big run's garbage is collected on the first idle tick, which can
      // come while HAProxy starts, before the apply is logged. How much it
      // finds depends on whether V8 ran a collection of its own in between;
      // that it comes, and the settling one after it, does not.
      const collected = (kind: string) => (l: LogLine) => l.msg === 'idle: heap collected' && l['collection'] === kind;
      const garbage = aq.logs.indexOf(await aq.waitFor(collected('garbage'), 30_000, 0));
      const settled = await aq.waitFor(collected('settle'), 30_000, garbage);
      const liveMb = Number(settled['liveMb']);
      // The heap /metrics reports comes down to what the settling collection left (a scrape allocates a little).
      await eventually(
        () => heapInUse(aq),
        (bytes) => bytes < (liveMb + 16) * MB,
      );
    } finally {
      await aq.stop();
    }
  });
});
