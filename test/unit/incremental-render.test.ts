// The renderer that keeps each element's text gives renderConfig's bytes for
// any template, and the builder it relies on keeps unchanged objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BackendManifest, FrontendManifest, MemberMap } from '../../src/core/manifests/model.js';
import { desiredStateBuilder } from '../../src/core/rendering/desired-state.js';
import { renderer } from '../../src/core/rendering/incremental-render.js';
import { renderConfig } from '../../src/core/rendering/render.js';
import { backend, frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';
import { loadManifestSet } from '../../src/core/manifests/manifests.js';
import { DEFAULT_TEMPLATE, TEST_RENDER_OPTIONS } from '../helpers/render.js';

/** Templates of every shape: lists alone, a list twice, lists inside lists, lists outside their section. */
const TEMPLATES = [
  DEFAULT_TEMPLATE,
  '{{#backends}}b {{name}}\n{{/backends}}{{#backends}}{{#servers}}s {{name}}\n{{/servers}}{{/backends}}',
  '{{#backends}}{{name}} sees {{#frontends}}{{name}},{{/frontends}}\n{{/backends}}{{#frontends}}f {{name}}\n{{/frontends}}',
  '{{^backends}}no backends\n{{/backends}}{{#backends}}{{name}}\n{{/backends}}',
  '{{#global}}{{#backends}}{{name}} {{maxconn}}\n{{/backends}}{{/global}}',
  '{{#frontends}}{{name}} {{global.maxconn}} {{#stats}}{{bind}}{{/stats}}\n{{/frontends}}',
];

const NAMES = ['a', 'b', 'c'];
const sets = [
  loadManifestSet([yamlFile('x.yaml', ...NAMES.map((n, i) => staticBackend(n, [9000 + i])))]),
  loadManifestSet([yamlFile('x.yaml', ...NAMES.map((n) => staticBackend(n, [9100, 9101])))]),
  loadManifestSet([
    yamlFile(
      'x.yaml',
      frontend('web', {
        bind: '*:8080',
        backend: 'da',
        rules: [{ type: 'path', operation: 'path_beg', value: '/b', backend: 'db' }],
      }),
      ...NAMES.map((n) => backend(`d${n}`, { type: 'dynamic', name: n, version: '1.0.0' })),
    ),
  ]),
];
/** One step: a backend or frontend from one of the sets (its parsed object, as the parse cache keeps it), members, options. */
const step = fc.record({
  backends: fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
  web: fc.boolean(),
  members: fc.uniqueArray(fc.integer({ min: 9000, max: 9003 }), { maxLength: 2 }),
  stats: fc.boolean(),
  mark: fc.boolean(),
});

describe('the incremental renderer', () => {
  it('renders what renderConfig renders, for every template shape, over random sequences', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), fc.array(step, { minLength: 1, maxLength: 8 }), (template, steps) => {
        const [render, build] = [renderer(), desiredStateBuilder()];
        for (const s of steps) {
          const chosen = new Map<string, BackendManifest>();
          for (const [set, i] of s.backends) {
            const b = sets[set]?.backends[i]?.manifest;
            if (b !== undefined) chosen.set(b.metadata.name, b);
          }
          const frontends: FrontendManifest[] = s.web ? (sets[2]?.frontends.map((f) => f.manifest) ?? []) : [];
          const servers = s.members.map((port) => ({ host: '127.0.0.1', port }));
          const members: MemberMap = Object.fromEntries(NAMES.map((n) => [`d${n}`, servers]));
          const state = build(frontends, [...chosen.values()], members);
          const options = {
            ...TEST_RENDER_OPTIONS,
            ...(s.stats && { statsBind: '127.0.0.1:1988' }),
            ...(s.mark && { instanceMark: 'aqueduct-instance-0123456789abcdef' }),
          };
          assert.equal(render(template, state, options), renderConfig(template, state, options));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every desired object whose manifest and members are unchanged, and only those', () => {
    const build = desiredStateBuilder();
    const backends = sets[0]?.backends.map((b) => b.manifest) ?? [];
    const dynamic = sets[2]?.backends.map((b) => b.manifest) ?? [];
    const members = (port: number): MemberMap => ({
      da: [{ host: '127.0.0.1', port }],
      db: [{ host: '127.0.0.1', port: 1 }],
    });
    const first = build([], [...backends, ...dynamic.slice(0, 2)], members(1));
    const c = sets[1]?.backends[2]?.manifest as BackendManifest;
    const second = build([], [...backends.slice(0, 2), c, ...dynamic.slice(0, 2)], members(2));
    // Sorted by name: a, b (same manifests), c (another manifest), da (members changed), db (same members, a new array).
    assert.deepEqual(
      second.backends.map((b) => b.name),
      ['a', 'b', 'c', 'da', 'db'],
    );
    assert.deepEqual(
      second.backends.map((b, i) => b === first.backends[i]),
      [true, true, false, false, true],
    );
  });
});
