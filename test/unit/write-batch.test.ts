// Group commit of API writes, with a fake haproxy -c: writes pending
// together share one check; a refusal goes to the writes HAProxy's complaint
// names, or (when it names none) to the one bisecting finds; the rest land.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import type { LocatedManifest } from '../../src/core/manifests/manifests.js';
import type { Manifest } from '../../src/core/manifests/model.js';
import { ManifestStore } from '../../src/sources/manifest-store.js';
import { WriteBatch, type StagedWrite } from '../../src/http/write-batch.js';
import type { CandidateCheck } from '../../src/reconcile/reconciler.js';
import { tempDir } from '../helpers/fixtures.js';

const backend = (name: string, natives: string[] = []): Manifest => ({
  apiVersion: 'aqueduct/v1',
  kind: 'Backend',
  metadata: { name },
  spec: { type: 'static', balance: 'roundrobin', host: null, mode: 'http', natives, members: [] },
});

/** A batch over a real directory whose "haproxy -c" refuses natives "named" (naming the object) and "unnamed" (naming none). */
async function setup() {
  const dir = await tempDir('aqueduct-batch-');
  const checks: number[] = [];
  const batch = new WriteBatch({
    store: new ManifestStore(dir),
    checkCandidate: async (read): Promise<CandidateCheck> => {
      checks.push(read.manifests.length);
      const natives = (m: LocatedManifest) => (m.manifest.kind === 'Certificate' ? [] : m.manifest.spec.natives);
      const bad = read.manifests.filter((m) => natives(m).some((n) => n === 'named' || n === 'unnamed'));
      if (bad.length === 0) return { ok: true };
      const culprits = bad
        .filter((m) => natives(m).includes('named'))
        .map((m) => ({ kind: m.manifest.kind as 'Frontend' | 'Backend', name: m.manifest.metadata.name }));
      return { ok: false, complaints: [{ culprits, message: 'unknown keyword' }], error: 'unknown keyword' };
    },
    requestApply: () => undefined,
    clock: systemClock,
    log: pino({ level: 'silent' }),
  });
  const write = (m: Manifest): StagedWrite => ({
    kind: 'Backend',
    name: m.metadata.name,
    file: `backends/${m.metadata.name}.yaml`,
    manifest: m,
    recheck: () => undefined,
  });
  const files = async () => (await readdir(path.join(dir, 'backends')).catch(() => [] as string[])).sort();
  return { batch, checks, write, files };
}

const settled = (p: Promise<unknown>) =>
  p.then(
    () => 'written',
    (err: Error) => err.message,
  );

describe('group commit of API writes', () => {
  it('checks the writes pending together once, and refuses only the one the complaint names', async () => {
    const { batch, checks, write, files } = await setup();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const outcomes = names.map((n) => settled(batch.stage(write(backend(n, n === 'c' ? ['named'] : []))).done));
    const results = await Promise.all(outcomes);
    assert.match(results[2] ?? '', /HAProxy refuses the config backend\/c would make: unknown keyword/);
    assert.deepEqual(results.filter((r) => r === 'written').length, 4);
    assert.deepEqual(await files(), ['a.yaml', 'b.yaml', 'd.yaml', 'e.yaml']);
    // Objects in each candidate: the first write alone (nothing was pending); then a and the other four
    // together, one check; then the same without c.
    assert.deepEqual(checks, [1, 5, 4]);
  });

  it('bisects a batch when HAProxy names no object, and writes the rest', async () => {
    const { batch, write, files } = await setup();
    const first = settled(batch.stage(write(backend('first'))).done);
    const rest = ['p', 'q', 'r', 's'].map((n) =>
      settled(batch.stage(write(backend(n, n === 'r' ? ['unnamed'] : []))).done),
    );
    assert.equal(await first, 'written');
    const results = await Promise.all(rest);
    assert.deepEqual(
      results.map((r) => (r === 'written' ? r : 'refused')),
      ['written', 'written', 'refused', 'written'],
    );
    assert.deepEqual(await files(), ['first.yaml', 'p.yaml', 'q.yaml', 's.yaml']);
  });

  it('runs writes to one object in order, and others beside them', async () => {
    const { batch } = await setup();
    const order: string[] = [];
    const step = (label: string, ms: number) => () =>
      new Promise<void>((resolve) => setTimeout(() => (order.push(label), resolve()), ms));
    await Promise.all([
      batch.forObject('Backend', 'x', step('x1', 30)),
      batch.forObject('Backend', 'x', step('x2', 1)),
      batch.forObject('Backend', 'y', step('y1', 5)),
    ]);
    assert.deepEqual(order, ['y1', 'x1', 'x2']);
  });
});
