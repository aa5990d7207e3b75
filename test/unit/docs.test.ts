// The docs stay true: every option of `aqueduct run` and its environment
// variable are documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { envName, RUN_OPTIONS } from '../../src/options.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('documentation', () => {
  it('docs/running.md lists every run option with its environment variable', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'running.md'), 'utf8');
    for (const o of RUN_OPTIONS) {
      assert.ok(doc.includes(`\`--${o.flag}\``), `--${o.flag} missing from docs/running.md`);
      assert.ok(doc.includes(`\`${envName(o.flag)}\``), `${envName(o.flag)} missing from docs/running.md`);
    }
  });

  it('names environment variables as AQUEDUCT_ and the flag in upper snake case', () => {
    assert.equal(envName('haproxySocketPath'), 'AQUEDUCT_HAPROXY_SOCKET_PATH');
    assert.equal(envName('thalassaApiPort'), 'AQUEDUCT_THALASSA_API_PORT');
    assert.equal(envName('port'), 'AQUEDUCT_PORT');
  });
});
