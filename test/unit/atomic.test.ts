// Atomic writes write big texts a slice at a time (src/files/atomic.ts):
// what is read back must be the text, whatever falls on a slice's edge.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../src/files/atomic.js';
import { tempDir } from '../helpers/fixtures.js';

const SLICE = 32 * 1024;

describe('atomic writes', () => {
  it('writes texts of many slices byte for byte, a pair of surrogates on an edge included', async () => {
    const dir = await tempDir('aqueduct-atomic-');
    const texts = {
      'ascii.txt': 'server s 127.0.0.1:80\n'.repeat(20_000),
      // An emoji (two UTF-16 units) straddling the first slice's end, and three-byte characters throughout.
      'pair.txt': `${'a'.repeat(SLICE - 1)}\u{1F600}${'\u20AC'.repeat(3 * SLICE)}`,
      'exact.txt': 'b'.repeat(2 * SLICE),
      'empty.txt': '',
    };
    for (const [name, text] of Object.entries(texts)) {
      await writeFileAtomic(path.join(dir, name), text);
      assert.equal(await readFile(path.join(dir, name), 'utf8'), text, name);
    }
  });
});
