// The manifest types are generated from schemas/: a schema change without a
// build (that regenerates them) is caught here, and a schema change the code
// does not handle is caught by the compiler over the generated unions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

describe('schema types', () => {
  it('are what scripts/gen-types.mjs makes of schemas/ now', async () => {
    const run = await promisify(execFile)('node', ['scripts/gen-types.mjs', '--check']).then(
      () => 'current',
      (err: { stderr?: string }) => err.stderr ?? 'failed',
    );
    assert.equal(run, 'current');
  });
});
