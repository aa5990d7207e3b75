// The pure core is enforced by a lint rule; this checks the rule bites.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { ESLint } from 'eslint';
import { classSizes, functionLengths, importsUnder, isTestBody } from '../helpers/function-lengths.js';

async function lintAs(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint();
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('architecture', () => {
  it('forbids file, process, network and timer access in src/core', async () => {
    for (const code of [
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      "import { spawn } from 'child_process';\nexport const x = spawn;\n",
      "import net from 'node:net';\nexport const x = net;\n",
      "import { x } from '../sources/manifest-dir.js';\nexport const y = x;\n",
      'export const x = (): number => Date.now();\n',
      'export const x = (): unknown => setTimeout(() => undefined, 1);\n',
      'export const x = (): unknown => process.env;\n',
    ]) {
      const messages = await lintAs('src/core/example.ts', code);
      assert.ok(
        messages.some((m) => m.startsWith('no-restricted-imports') || m.startsWith('no-restricted-globals')),
        `${code} → ${messages.join('; ')}`,
      );
    }
  });

  it('allows the same imports outside src/core, and schemas inside it', async () => {
    assert.deepEqual(
      await lintAs(
        'src/sources/example.ts',
        "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      ),
      [],
    );
    assert.deepEqual(
      await lintAs(
        'src/core/example.ts',
        "import s from '../../schemas/common.schema.json' with { type: 'json' };\nexport const x = s;\n",
      ),
      [],
    );
  });

  it('keeps folders inside src/core pure too: a sibling in core is allowed, anything outside is not', async () => {
    assert.deepEqual(
      await lintAs('src/core/deploy/example.ts', "import { x } from '../manifests/model.js';\nexport const y = x;\n"),
      [],
    );
    assert.deepEqual(
      await lintAs(
        'src/core/manifests/example.ts',
        "import s from '../../../schemas/common.schema.json' with { type: 'json' };\nexport const x = s;\n",
      ),
      [],
    );
    for (const code of [
      "import { x } from '../../sources/manifest-dir.js';\nexport const y = x;\n",
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      'export const x = (): number => Date.now();\n',
    ]) {
      const messages = await lintAs('src/core/deploy/example.ts', code);
      assert.ok(
        messages.some((m) => m.startsWith('no-restricted-imports') || m.startsWith('no-restricted-globals')),
        `${code} → ${messages.join('; ')}`,
      );
    }
  });

  it('keeps every function in src/ within 80 lines, short enough to read at once', () => {
    const long = functionLengths('src').filter((f) => f.lines > 80);
    assert.deepEqual(
      long.map((f) => `${f.where} (${f.lines} lines)`),
      [],
    );
  });

  it('keeps every test within 60 lines, so each says one thing', () => {
    const long = functionLengths('test', isTestBody).filter((f) => f.lines > 60);
    assert.deepEqual(
      long.map((f) => `${f.where} (${f.lines} lines)`),
      [],
    );
  });

  it('keeps every class in src/ within 300 lines and 15 fields: a class that grows past them holds two rooms', () => {
    const big = classSizes('src').filter((c) => c.lines > 300 || c.fields > 15);
    assert.deepEqual(
      big.map((c) => `${c.where} (${c.lines} lines, ${c.fields} fields)`),
      [],
    );
  });

  it('lets no import climb from the inputs (sources/) or the core up to the API (http/)', () => {
    const up = importsUnder('src').filter(
      ([file, target]) => /^src\/(sources|core)\//.test(file) && target.startsWith(path.join('src', 'http')),
    );
    assert.deepEqual(up, []);
  });

  it('has no import cycle in src/: each room depends on rooms below it', () => {
    const graph = new Map<string, string[]>();
    for (const [file, target] of importsUnder('src'))
      graph.set(file, [...(graph.get(file) ?? []), target.replace(/\.js$/, '.ts')]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') return void cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('forbids any', async () => {
    const messages = await lintAs('src/sources/example.ts', 'export const x = (a: any): unknown => a;\n');
    assert.ok(messages.some((m) => m.startsWith('@typescript-eslint/no-explicit-any')));
  });
});
