// The incremental loop gives what a whole run gives, byte for byte: over
// random sequences of edits to a real manifest directory (files written,
// rewritten, emptied, broken, removed, moved into a subdirectory, linked;
// hidden and foreign names; dynamic members changing with no file
// changing; render options changing), the loop's way (the watcher's paths
// read again, kept parses, kept checks, kept desired objects, kept rendered
// text) and a whole run's way (every file read, checked, built and rendered
// from nothing) must read the same files and render the same config.
import assert from 'node:assert/strict';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { selectServable } from '../../src/core/manifests/last-good.js';
import type { LoadedManifest, MemberMap } from '../../src/core/manifests/model.js';
import { applyNativesPolicy } from '../../src/core/manifests/natives-policy.js';
import { ParseCache } from '../../src/core/manifests/parse-cache.js';
import { buildDesiredState, desiredStateBuilder } from '../../src/core/rendering/desired-state.js';
import { renderer } from '../../src/core/rendering/incremental-render.js';
import { renderConfig, type RenderOptions } from '../../src/core/rendering/render.js';
import { readManifestDir } from '../../src/sources/manifest-dir.js';
import { ManifestReader } from '../../src/sources/manifest-reader.js';
import { backend, frontend, staticBackend, tempDir } from '../helpers/fixtures.js';
import { DEFAULT_TEMPLATE, TEST_RENDER_OPTIONS } from '../helpers/render.js';

const NAMES = ['b0', 'b1', 'b2', 'b3'];
const FILES = ['b0.yaml', 'b1.yaml', 'sub/b2.yaml', 'b3.yml'];

/** One edit, and the paths the watcher reports for it (undefined: an event that names no file). */
type Edit =
  | { op: 'static'; i: number; ports: number[] }
  | { op: 'dynamic'; i: number }
  | { op: 'frontend'; routes: number[] }
  | { op: 'empty' | 'broken' | 'remove' | 'link' | 'hidden' | 'foreign' | 'atomic' | 'dirlink'; i: number }
  | { op: 'members'; i: number; ports: number[] }
  | { op: 'options'; stats: boolean; socket: string };

const index = fc.integer({ min: 0, max: NAMES.length - 1 });
const ports = fc.uniqueArray(fc.integer({ min: 20000, max: 20005 }), { minLength: 1, maxLength: 3 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('static' as const), i: index, ports }) },
  fc.record({ op: fc.constant('dynamic' as const), i: index }),
  fc.record({ op: fc.constant('frontend' as const), routes: fc.uniqueArray(index, { maxLength: 4 }) }),
  fc.record({
    op: fc.constantFrom('empty', 'broken', 'remove', 'link', 'hidden', 'foreign', 'atomic', 'dirlink' as const),
    i: index,
  }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('members' as const), i: index, ports }) },
  // The socket's folder is where the routing maps are: it changes each frontend's text.
  fc.record({
    op: fc.constant('options' as const),
    stats: fc.boolean(),
    socket: fc.constantFrom('/tmp/a/s', '/tmp/b/s'),
  }),
);

interface World {
  dir: string;
  members: MemberMap;
  options: RenderOptions;
}

/** Carries out one edit; returns what the watcher would report. */
async function apply(world: World, e: Edit): Promise<(string | undefined)[]> {
  const file = (i: number) => path.join(world.dir, FILES[i] as string);
  const write = async (i: number, text: string) => {
    await mkdir(path.dirname(file(i)), { recursive: true });
    await writeFile(file(i), text);
    return [file(i)];
  };
  const name = (i: number) => NAMES[i] as string;
  switch (e.op) {
    case 'static':
      return write(e.i, stringify(staticBackend(name(e.i), e.ports)));
    case 'dynamic':
      return write(e.i, stringify(backend(name(e.i), { type: 'dynamic', name: 'app', version: '1.0.0' })));
    case 'frontend': {
      const rules = e.routes.map((i) => ({
        type: 'path',
        operation: 'path_beg',
        value: `/${name(i)}`,
        backend: name(i),
      }));
      const f = path.join(world.dir, 'web.yaml');
      await writeFile(f, stringify(frontend('web', { bind: '127.0.0.1:18080', backend: 'b0', rules })));
      return [f];
    }
    case 'empty':
      return write(e.i, '');
    case 'broken':
      return write(e.i, `kind: Backend\nmetadata: {name: ${name(e.i)}\n`);
    case 'remove':
      await rm(file(e.i), { force: true });
      return [file(e.i)];
    case 'link': {
      const link = path.join(world.dir, `link-${name(e.i)}.yaml`);
      await rm(link, { force: true });
      await symlink(file(e.i), link);
      return [link];
    }
    case 'hidden': {
      const hidden = path.join(world.dir, `.${name(e.i)}.yaml`);
      await writeFile(hidden, stringify(staticBackend('hidden', [1])));
      return [hidden];
    }
    case 'foreign':
      await writeFile(path.join(world.dir, `${name(e.i)}.txt`), 'not a manifest');
      return [path.join(world.dir, `${name(e.i)}.txt`)];
    case 'atomic': {
      // As editors and git write: a temporary name beside the file, renamed over it.
      const temp = `${file(e.i)}.tmp-${e.i}`;
      await mkdir(path.dirname(file(e.i)), { recursive: true });
      await writeFile(temp, stringify(staticBackend(name(e.i), [20009])));
      await rename(temp, file(e.i));
      return [temp, temp, file(e.i)];
    }
    case 'dirlink': {
      // A link to a directory, whatever its name: the watcher reports the link as a file.
      const link = path.join(world.dir, e.i % 2 === 0 ? 'linked' : 'linked.yaml');
      await rm(link, { force: true });
      await mkdir(path.join(world.dir, 'sub'), { recursive: true });
      await symlink(path.join(world.dir, 'sub'), link);
      return [link];
    }
    case 'members':
      world.members = { ...world.members, [name(e.i)]: e.ports.map((port) => ({ host: '127.0.0.2', port })) };
      return [];
    case 'options':
      world.options = { statsSocketPath: e.socket, ...(e.stats && { statsBind: '127.0.0.1:1988' }) };
      return [];
  }
}

/** A run from what it keeps (`kept`), or from nothing but its parse cache (a whole run). */
function runner(incremental: boolean) {
  const cache = new ParseCache();
  const build = incremental ? desiredStateBuilder() : buildDesiredState;
  const render = incremental ? renderer() : renderConfig;
  let lastGood: LoadedManifest[] = [];
  return (files: Parameters<ParseCache['parse']>[0], world: World): string => {
    const servable = selectServable(applyNativesPolicy(cache.parse(files), false), lastGood);
    const frontends = servable.frontends.map((f) => f.manifest);
    const state = build(
      frontends,
      servable.backends.map((b) => b.manifest),
      world.members,
    );
    lastGood = [...servable.frontends, ...servable.backends].map((m) => ({ manifest: m.manifest, source: m.source }));
    return render(DEFAULT_TEMPLATE, state, world.options);
  };
}

describe('the incremental loop', () => {
  it('reads the same files and renders the same config as a whole run, over random edits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 12 }), async (edits) => {
        const world: World = { dir: await tempDir('aqueduct-incremental-'), members: {}, options: TEST_RENDER_OPTIONS };
        const reader = new ManifestReader(world.dir);
        const [loop, whole] = [runner(true), runner(false)];
        try {
          // From a directory that serves everything, so most edits change what is served.
          for (const i of [0, 1, 2]) await apply(world, { op: 'static', i, ports: [20000 + i] });
          await apply(world, { op: 'dynamic', i: 3 });
          await apply(world, { op: 'frontend', routes: [1, 2, 3] });
          await reader.read();
          for (const e of edits) {
            for (const p of await apply(world, e)) reader.changed(p);
            const [incrementalFiles, wholeFiles] = [await reader.read(), await readManifestDir(world.dir)];
            assert.deepEqual(incrementalFiles, wholeFiles, `files after ${JSON.stringify(e)}`);
            assert.equal(loop(incrementalFiles, world), whole(wholeFiles, world), `config after ${JSON.stringify(e)}`);
          }
        } finally {
          await rm(world.dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env['RUNS'] ?? 200) },
    );
  });
});
