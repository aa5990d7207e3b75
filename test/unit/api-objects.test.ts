// The API's pure parts: bodies to manifests, object status, the legacy
// persistence import, tokens, and the OpenAPI document against the routes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  backendFromBody,
  frontendFromBody,
  objectStatus,
  resubscribe,
  toApiBackend,
} from '../../src/core/manifests/api-objects.js';
import { manifestGeneration } from '../../src/core/manifests/identity.js';
import { importLegacyPersistence } from '../../src/core/manifests/legacy-persistence.js';
import type { BackendManifest } from '../../src/core/manifests/model.js';
import { authorized, bearerToken, tokenMatches } from '../../src/http/auth.js';
import { openApiDocument } from '../helpers/app.js';
import { tempDir } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/cli.js';

const fe = { bind: '127.0.0.1:80', backend: 'live' };

describe('request bodies', () => {
  it('turns a frontend body into a manifest with defaults, keeping labels the file had', () => {
    const r = frontendFromBody('web', fe, { name: 'web', labels: { team: 'a' } });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.manifest?.metadata, { name: 'web', labels: { team: 'a' } });
    assert.deepEqual(r.manifest?.spec, { ...fe, mode: 'http', keepalive: 'default', rules: [], natives: [] });
  });

  it('accepts the fields a GET returns when they name this object, and refuses them otherwise', () => {
    const ok = frontendFromBody('web', {
      ...fe,
      id: 'frontend/web',
      _type: 'frontend',
      key: 'web',
      name: 'web',
      status: {},
    });
    assert.deepEqual(ok.problems, []);
    const bad = frontendFromBody('web', { ...fe, key: 'other', _type: 'backend' });
    assert.deepEqual(
      bad.problems.map((p) => [p.code, p.field]),
      [
        ['invalid_value', '_type'],
        ['invalid_value', 'key'],
      ],
    );
  });

  it('names unknown fields, missing fields and bad values with their own codes', () => {
    const r = frontendFromBody('web', { backend: 'live', mod: 'tcp', keepalive: 'forever' });
    const byField = Object.fromEntries(r.problems.map((p) => [p.field, p.code]));
    assert.deepEqual(byField, { bind: 'missing_field', mod: 'unknown_field', keepalive: 'invalid_value' });
    assert.equal(r.manifest, undefined);
    const name = backendFromBody('a b', { type: 'static' });
    assert.equal(name.problems[0]?.field, 'name');
    assert.match(name.problems[0]?.message ?? '', /in the URL/);
  });

  it('refuses prototype keys as unknown fields, at every level, instead of dropping them', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const body = JSON.parse(`{"type":"static","${key}":{"x":1}}`) as unknown;
      const r = backendFromBody('b', body);
      assert.deepEqual(
        r.problems.map((p) => [p.field, p.code]),
        [[key, 'unknown_field']],
        key,
      );
      assert.equal(({} as Record<string, unknown>)['x'], undefined, 'nothing reached Object.prototype');
    }
    const nested = backendFromBody(
      'b',
      JSON.parse('{"type":"static","members":[{"host":"h","port":1,"__proto__":{}}]}'),
    );
    assert.equal(nested.problems[0]?.field, 'members[0].__proto__');
  });

  it("ignores a dynamic backend's members (the registry's) but keeps a static backend's", () => {
    const dyn = backendFromBody('live', {
      type: 'dynamic',
      name: 'app',
      version: '1',
      members: [{ id: '/app/1/h/1' }],
    });
    assert.deepEqual(dyn.manifest?.spec.members, []);
    const stat = backendFromBody('live', { type: 'static', members: [{ host: 'h', port: 1 }] });
    assert.deepEqual(stat.manifest?.spec.members, [{ host: 'h', port: 1 }]);
  });

  it('rewrites only name and version on POST', () => {
    const existing = backendFromBody('live', { type: 'dynamic', name: 'app', version: '1.0.0', balance: 'source' })
      .manifest as BackendManifest;
    assert.equal(resubscribe(existing, { version: '1.1.0' }).manifest?.spec.version, '1.1.0');
    assert.equal(resubscribe(existing, { version: '1.1.0' }).manifest?.spec.balance, 'source');
    assert.equal(resubscribe(existing, { name: 'x', version: '2' }).manifest?.spec.name, 'x');
    assert.equal(resubscribe(existing, { name: 'x' }).problems[0]?.code, 'missing_field');
    assert.equal(resubscribe(existing, { version: '1', balance: 'x' }).problems[0]?.field, 'balance');
  });

  it("shows a dynamic backend's registrations as its members", () => {
    const m = backendFromBody('live', { type: 'dynamic', name: 'app', version: '1' }).manifest as BackendManifest;
    const reg = { id: '/app/1/h/1', name: 'app', version: '1', host: 'h', port: 1, lastKnown: 5, meta: {} };
    assert.deepEqual(toApiBackend(m, [reg]).members, [reg]);
  });
});

describe('object status', () => {
  const a = frontendFromBody('web', fe).manifest;
  const b = frontendFromBody('web', { ...fe, keepalive: 'close' }).manifest;

  it('is applied when HAProxy serves the declared version, pending when not yet', () => {
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(objectStatus({ desired: a, applied: a, issues: [] }).state, 'applied');
    const pending = objectStatus({ desired: b, applied: a, issues: [], lastApplyError: 'boom' });
    assert.deepEqual([pending.state, pending.serving, pending.lastError], ['pending', 'previous', 'boom']);
    assert.equal(objectStatus({ desired: b, issues: [] }).serving, 'none');
  });

  it('is invalid with the first issue as its error, whatever is served', () => {
    assert.ok(a !== undefined);
    const s = objectStatus({ desired: a, applied: a, issues: ['x: bad', 'y: bad'] });
    assert.deepEqual([s.state, s.lastError], ['invalid', 'x: bad']);
  });

  it('has generations that ignore key order and change with content', () => {
    assert.ok(a !== undefined && b !== undefined);
    const reordered = JSON.parse(
      JSON.stringify({ spec: a.spec, metadata: a.metadata, kind: a.kind, apiVersion: a.apiVersion }),
    );
    assert.equal(manifestGeneration(reordered), manifestGeneration(a));
    assert.notEqual(manifestGeneration(a), manifestGeneration(b));
  });
});

describe('legacy persistence import', () => {
  it("turns the original's objects into manifests and names what it cannot import", () => {
    const r = importLegacyPersistence({
      version: '0.2.4',
      frontends: [{ id: 'frontend/f', _type: 'frontend', key: 'f', name: 'f', bind: '*:80', backend: 'b', rules: [] }],
      backends: [
        { id: 'backend/b', key: 'b', type: 'static', members: [{ host: 'h', port: 1, id: 'x', meta: {} }], host: null },
        { id: 'backend/d', type: 'dynamic', name: 'svc', version: '1', members: [{ host: 'h', port: 2 }] },
        { type: 'static' },
        'nonsense',
      ],
    });
    assert.deepEqual(
      r.manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      ['Frontend/f', 'Backend/b', 'Backend/d'],
    );
    assert.deepEqual((r.manifests[1] as BackendManifest).spec.members, [{ host: 'h', port: 1 }]);
    assert.deepEqual((r.manifests[2] as BackendManifest).spec.members, []);
    assert.deepEqual(r.problems, ["backends[2]: has no key (the object's name)", 'backends[3]: must be an object']);
    assert.deepEqual(importLegacyPersistence([]).manifests, []);
  });
});

describe('tokens', () => {
  it('compares tokens exactly', () => {
    assert.ok(tokenMatches('abc', 'abc'));
    assert.ok(!tokenMatches('abd', 'abc'));
    assert.ok(!tokenMatches('abcd', 'abc'));
    assert.ok(!tokenMatches(undefined, 'abc'));
    assert.equal(bearerToken('Bearer  t0k '), 't0k');
    assert.equal(bearerToken('Basic dXNlcg=='), undefined);
  });

  it('needs the write token for writes and the read (or write) token for reads when set', () => {
    const policy = { writeToken: 'w', readToken: 'r' };
    assert.ok(authorized(policy, true, 'Bearer w'));
    assert.ok(!authorized(policy, true, 'Bearer r'));
    assert.ok(authorized(policy, false, 'Bearer r'));
    assert.ok(authorized(policy, false, 'Bearer w'));
    assert.ok(!authorized(policy, false, undefined));
    assert.ok(authorized({}, true, undefined));
    assert.ok(authorized({ writeToken: 'w' }, false, undefined));
  });
});

describe('OpenAPI document', () => {
  it('resolves every $ref to a component', async () => {
    const doc = await openApiDocument();
    const schemas = (doc['components'] as { schemas: Record<string, unknown> }).schemas;
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(refs.length > 20);
    for (const ref of refs) {
      const name = ref.replace('#/components/schemas/', '');
      assert.ok(name in schemas, `unresolved ${ref}`);
    }
  });

  it('documents every route the server registers, each with an operationId, a summary and a tag', async () => {
    const doc = await openApiDocument();
    const operations = Object.entries(doc['paths'] as Record<string, Record<string, Record<string, unknown>>>).flatMap(
      ([url, item]) => Object.entries(item).map(([method, op]) => ({ url, method, op })),
    );
    for (const { url, method, op } of operations) {
      assert.match(String(op['operationId']), /^[a-z][A-Za-z]+$/, `${method} ${url}`);
      assert.ok(String(op['summary']).length > 5, `${method} ${url}`);
      assert.equal((op['tags'] as string[]).length, 1, `${method} ${url}`);
    }
    const ids = operations.map((o) => o.op['operationId']);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    // ui.ts serves the dashboard's files, which are no API operations.
    const routes = path.join(ROOT, 'src/http/routes');
    const files = (await readdir(routes)).filter((f) => f !== 'ui.ts');
    const sources = await Promise.all(files.map((f) => readFile(path.join(routes, f), 'utf8')));
    const registered = sources.join('\n').match(/\bapp\.(get|put|post|delete)(<[^(]*>)?\(/g) ?? [];
    assert.equal(operations.length, registered.length, 'every registered route is documented');
  });

  it("passes redocly's recommended rules with no error", async () => {
    const file = path.join(await tempDir(), 'openapi.json');
    await writeFile(file, JSON.stringify(await openApiDocument()));
    const bin = path.join(ROOT, 'node_modules', '.bin', 'redocly');
    const lint = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(bin, ['lint', '--extends', 'recommended', '--format', 'summary', file], (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : Number(err.code ?? 1), output: stdout + stderr }),
      ),
    );
    assert.equal(lint.code, 0, lint.output);
    assert.doesNotMatch(lint.output, /^error /m, lint.output);
  });
});
