import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { yamlFile } from '../helpers/fixtures.js';
import { manifestSetArb, reshuffledArb } from '../helpers/arbitraries.js';
import { renderFiles } from '../helpers/render.js';

describe('determinism (property)', () => {
  it('random valid sets load without issues', () => {
    fc.assert(
      fc.property(manifestSetArb, (set) => {
        assert.deepEqual(renderFiles([yamlFile('all.yaml', ...set.docs)], set.members).set.issues, []);
      }),
      { numRuns: 200 },
    );
  });

  it('shuffled files, documents, rules and members render identical bytes', () => {
    fc.assert(
      fc.property(
        manifestSetArb.chain((set) => fc.tuple(fc.constant(set), reshuffledArb(set))),
        ([set, files]) => {
          const expected = renderFiles([yamlFile('all.yaml', ...set.docs)], set.members).config;
          const names = ['z.yaml', 'a/b.yml', 'm.yaml', 'a.yaml'];
          const manifestFiles = files
            .map((docs, i) => yamlFile(names[i] as string, ...docs))
            .filter((f) => f.text !== '');
          const shuffledMembers = Object.fromEntries(
            Object.entries(set.members)
              .map(([k, v]) => [k, [...v].reverse()])
              .reverse(),
          );
          assert.equal(renderFiles(manifestFiles, shuffledMembers).config, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
