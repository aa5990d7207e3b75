// A real Aqueduct gives its heap back once a big run is over: the garbage of
// reading, checking and rendering thousands of servers is collected when the
// process goes idle (src/idle-collector.ts), not left to V8's own schedule,
// which at 100k servers kept ~250 MB of heap for half a minute or more.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { heapInUse, isApply, startAqueductProcess, type LogLine } from '../helpers/aqueduct.js';
import { tempDir, templateWithoutChecks } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { manifestSet, toYaml } from '../helpers/manifest-set.js';
import { eventually } from '../helpers/wait.js';

const MB = 2 ** 20;

describe('memory', () => {
  it('collects the garbage of a big run once idle, then settles the heap to what lives', async () => {
    const dir = await tempDir('aqueduct-memory-');
    await mkdir(path.join(dir, 'manifests'));
    // 40,000 servers: a frontend and 800 backends of 50, a file each.
    const docs = manifestSet({ backends: 800, serversPerBackend: 50, frontendPort: await freePort() });
    await Promise.all(docs.map((d, i) => writeFile(path.join(dir, 'manifests', `${i}.yaml`), toYaml([d]))));
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
