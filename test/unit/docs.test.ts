// The docs stay true: every option of `aqueduct run`, its environment
// variable and its default are documented as the code has them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { envName, RUN_OPTIONS } from '../../src/options.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('documentation', () => {
  it('docs/running.md has a row for every run option, with its environment variable, and none for an option the code lacks', () => {
    const rows = readFileSync(path.join(ROOT, 'docs', 'running.md'), 'utf8')
      .split('\n')
      .filter((l) => /^\| `--\w+`/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    const documented = new Map(rows.map(([, option = '', env = '']) => [/`--(\w+)`/.exec(option)?.[1], env]));
    for (const o of RUN_OPTIONS) {
      assert.ok(documented.has(o.flag), `--${o.flag} missing from docs/running.md`);
      assert.equal(documented.get(o.flag), `\`${envName(o.flag)}\``, `--${o.flag}'s environment variable`);
    }
    const known = new Set<string>(RUN_OPTIONS.map((o) => o.flag));
    for (const flag of documented.keys())
      assert.ok(known.has(flag ?? ''), `docs/running.md documents --${flag}, which run lacks`);
  });

  it("docs/running.md's options table gives each option the default RUN_OPTIONS gives it", () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'running.md'), 'utf8');
    for (const o of RUN_OPTIONS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`--${o.flag}\``));
      assert.ok(row !== undefined, `no table row for --${o.flag}`);
      const cell = (row.split('|')[3] ?? '').trim();
      // Derived defaults are described (`<stateDir>/...`); literal ones must be the table's value.
      if ('default' in o && !cell.startsWith('`<'))
        assert.equal(cell, `\`${String(o.default)}\``, `--${o.flag}: docs say ${cell}, the code ${String(o.default)}`);
      // Without one in the table, the docs may describe what happens (derived, or by terminal), never state a value.
      if (!('default' in o)) assert.doesNotMatch(cell, /^`[^`<]*`$/, `--${o.flag} has no default but docs say ${cell}`);
    }
  });

  it('names environment variables as AQUEDUCT_ and the flag in upper snake case', () => {
    assert.equal(envName('haproxySocketPath'), 'AQUEDUCT_HAPROXY_SOCKET_PATH');
    assert.equal(envName('thalassaApiPort'), 'AQUEDUCT_THALASSA_API_PORT');
    assert.equal(envName('port'), 'AQUEDUCT_PORT');
  });
});
