// Property: whatever valid manifests a user writes, the rendered config is
// one the real HAProxy accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkConfigText } from '../../src/haproxy/check.js';
import { manifestSetArb } from '../helpers/arbitraries.js';
import { yamlFile } from '../helpers/fixtures.js';
import { HAPROXY_BIN } from '../helpers/haproxy.js';
import { renderFiles } from '../helpers/render.js';

describe('haproxy -c accepts every valid set (property)', () => {
  it('renders random valid manifest sets to configs haproxy -c accepts', async () => {
    await fc.assert(
      fc.asyncProperty(manifestSetArb, async (set) => {
        const { config, set: loaded } = renderFiles([yamlFile('all.yaml', ...set.docs)], set.members);
        assert.deepEqual(loaded.issues, []);
        const check = await checkConfigText(HAPROXY_BIN, config);
        assert.ok(check.ok, `${check.output}\n${config}`);
      }),
      { numRuns: 60 },
    );
  });
});
