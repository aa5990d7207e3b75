// `npm start` (scripts/demo.sh) as a newcomer runs it, twice: each run starts
// from a clean .run/, serves the README's routing from its first answer (the
// members are registered before Aqueduct starts), and Ctrl-C stops it all.
// It uses the README's fixed ports (8080, 8081, 9000-9005, 10000).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { served, startDemo, stopDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/wait.js';

describe('npm start', () => {
  it('serves the README routing from its first answer, and starts clean on a second run', async () => {
    for (const run of [1, 2]) {
      const demo = await startDemo();
      try {
        const first = await Promise.all(Array.from({ length: 10 }, () => served()));
        assert.ok(
          first.every((x) => /^200 v1\.0\.0:900[12]$/.test(x)),
          `run ${run}: ${first.join(', ')}`,
        );
        assert.match(await served('staged.myapp.com'), /^200 v1\.1\.0:900[34]$/);
        // Leave an edit behind: the next run must not serve it.
        const file = path.join(ROOT, '.run', 'manifests', 'frontends', 'myapp.yaml');
        await writeFile(file, (await readFile(file, 'utf8')).replace('backend: live', 'backend: staged'));
        await eventually(
          () => served(),
          (x) => /v1\.1\.0/.test(x),
          10_000,
        );
      } finally {
        await stopDemo(demo);
      }
    }
  });
});
