// Random manifest trees thrown at the real loop (fast-check): valid objects
// mixed with every kind of bad input (YAML that does not parse, a name
// declared twice, natives HAProxy refuses, natives the policy refuses,
// symlink loops, FIFOs, empty files). After each tree the process is up, its
// memory bounded, exactly the valid objects are served, and the API's status
// agrees with what HAProxy serves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { apiClient, obj } from '../helpers/api.js';
import { apiUp, startAqueductProcess } from '../helpers/aqueduct.js';
import { staticBackend, type JsonObject } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { eventually } from '../helpers/wait.js';

type BackendFault = 'none' | 'frobnicate' | 'unsafe' | 'duplicate' | 'yaml';
const FAULTS: BackendFault[] = ['none', 'none', 'none', 'frobnicate', 'unsafe', 'duplicate', 'yaml'];

const treeArb = fc.record({
  backends: fc.array(fc.constantFrom(...FAULTS), { minLength: 1, maxLength: 6 }),
  /** Each frontend routes to one of the backends, by index. */
  frontends: fc.array(fc.nat(), { maxLength: 4 }),
  loops: fc.boolean(),
  fifo: fc.boolean(),
  empty: fc.boolean(),
});
type Tree = typeof treeArb extends fc.Arbitrary<infer T> ? T : never;

/** Writes the tree under dir (emptied first); returns the names that must be served. */
async function writeTree(dir: string, run: number, tree: Tree, ports: number[]): Promise<Set<string>> {
  for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
  const served = new Set<string>();
  // Paths of their own each run: a file that stops parsing keeps serving what it held (by design), so none may carry over.
  const file = async (rel: string, text: string) => {
    const full = path.join(dir, `r${run}`, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
  };
  const backendName = (i: number) => `r${run}b${i}`;
  for (const [i, fault] of tree.backends.entries()) {
    const natives = fault === 'frobnicate' ? ['frobnicate yes'] : fault === 'unsafe' ? ['global'] : [];
    const doc = staticBackend(backendName(i), [1000 + i], { natives });
    await file(`b/${i}.yaml`, fault === 'yaml' ? `${stringify(doc)}\n  : [unclosed\n` : stringify(doc));
    if (fault === 'duplicate') await file(`dup/${i}.yaml`, stringify(staticBackend(backendName(i), [2000 + i])));
    if (fault === 'none') served.add(`backend ${backendName(i)}`);
  }
  for (const [j, target] of tree.frontends.entries()) {
    const backend = target % tree.backends.length;
    const doc: JsonObject = {
      apiVersion: 'aqueduct/v1',
      kind: 'Frontend',
      metadata: { name: `r${run}f${j}` },
      spec: { bind: `127.0.0.1:${ports[j] ?? 1}`, backend: backendName(backend) },
    };
    await file(`f/${j}.yaml`, stringify(doc));
    if (tree.backends[backend] === 'none') served.add(`frontend r${run}f${j}`);
  }
  if (tree.loops) {
    await symlink('.', path.join(dir, 'loop-a'));
    await mkdir(path.join(dir, `r${run}`, 'b'), { recursive: true });
    await symlink('../..', path.join(dir, `r${run}`, 'b', 'up'));
  }
  if (tree.fifo) execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')]);
  if (tree.empty) await file('empty.yaml', '');
  return served;
}

/** Frontend and backend sections of a config, as "kind name". */
const sections = (config: string): Set<string> =>
  new Set(
    config
      .split('\n')
      .filter((l) => /^(frontend|backend) /.test(l))
      .map((l) => l.trim()),
  );

describe('fuzzed manifest trees', () => {
  it('keep the process up and bounded, serve exactly the valid objects, and report what HAProxy serves', async () => {
    const aq = await startAqueductProcess({ args: ['--minReloadInterval', '100'] });
    const api = apiClient(aq.api);
    const ports = await Promise.all(Array.from({ length: 4 }, () => freePort()));
    let run = 0;
    try {
      await apiUp(aq);
      await fc.assert(
        fc.asyncProperty(treeArb, async (tree) => {
          run++;
          const expected = await writeTree(aq.manifests, run, tree, ports);
          const config = await eventually(
            async () => (await api('GET', '/haproxy/config')).text,
            (text) => [...sections(text)].sort().join('\n') === [...expected].sort().join('\n'),
            20_000,
          ).catch((err: unknown) => {
            throw new Error(
              `run ${run}: served ≠ expected ${JSON.stringify([...expected])}: ${(err as Error).message.slice(0, 2000)}`,
            );
          });
          assert.ok(aq.child.exitCode === null, 'the process is up');
          const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(aq.child.pid)]).toString()) / 1024;
          assert.ok(rss < 300, `RSS ${rss.toFixed(0)} MB`);
          const objects = obj(await api('GET', '/status'))['objects'] as { id: string; state: string }[];
          const servedNow = sections(config);
          for (const o of objects.filter((x) => x.id.includes(`/r${run}`))) {
            const [kind = '', name = ''] = o.id.split('/');
            assert.equal(o.state === 'applied', servedNow.has(`${kind} ${name}`), `${o.id} is ${o.state}`);
          }
        }),
        { numRuns: 8, seed: 20261124, endOnFailure: true },
      );
    } finally {
      await aq.stop();
    }
  });
});
