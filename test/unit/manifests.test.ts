import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_OWN_ADDRESSES, reservedBind } from '../../src/core/manifests/bind.js';
import { checkManifestSet, loadManifestSet, parseManifestFiles } from '../../src/core/manifests/manifests.js';
import { formatIssue, type Issue } from '../../src/core/issues.js';
import { backend, everyFieldSet, frontend, staticBackend, yamlFile, type JsonObject } from '../helpers/fixtures.js';

const codes = (issues: Issue[]) => issues.map((i) => i.code);
const find = (issues: Issue[], path: string) => issues.filter((i) => i.path === path);

describe('loading manifests', () => {
  it('accepts a set using every field and fills defaults', () => {
    const set = loadManifestSet([yamlFile('all.yaml', ...everyFieldSet())]);
    assert.deepEqual(set.issues, []);
    assert.equal(set.frontends.length, 2);
    assert.equal(set.backends.length, 5);
    const api = set.backends.find((b) => b.manifest.metadata.name === 'api');
    assert.equal(api?.manifest.spec.mode, 'http');
    assert.equal(api?.manifest.spec.host, null);
    assert.deepEqual(api?.manifest.spec.natives, []);
    assert.deepEqual(api?.manifest.spec.members, []);
    const staged = set.backends.find((b) => b.manifest.metadata.name === 'staged');
    assert.deepEqual(staged?.manifest.spec.health, {
      method: 'GET',
      uri: '/ping',
      httpVersion: 'HTTP/1.0',
      interval: 1000,
    });
    const db = set.frontends.find((f) => f.manifest.metadata.name === 'db');
    assert.equal(db?.manifest.spec.keepalive, 'default');
    assert.deepEqual(db?.manifest.spec.rules, []);
  });

  it('fills the original defaults: roundrobin, http, default keepalive, health GET / HTTP/1.0 2000', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }), staticBackend('b', [1], { health: {} })),
    ]);
    assert.deepEqual(set.issues, []);
    const b = set.backends[0]?.manifest.spec;
    assert.equal(b?.balance, 'roundrobin');
    assert.equal(b?.mode, 'http');
    assert.deepEqual(b?.health, { method: 'GET', uri: '/', httpVersion: 'HTTP/1.0', interval: 2000 });
    assert.equal(set.frontends[0]?.manifest.spec.mode, 'http');
    assert.equal(set.frontends[0]?.manifest.spec.keepalive, 'default');
  });

  it('reads several documents per file and reports the document index and line', () => {
    const text = [
      'apiVersion: aqueduct/v1',
      'kind: Backend',
      'metadata: { name: ok }',
      'spec: { type: static }',
      '---',
      'apiVersion: aqueduct/v1',
      'kind: Backend',
      'metadata: { name: bad }',
      'spec:',
      '  type: static',
      '  balance: fastest',
    ].join('\n');
    const { manifests, issues } = parseManifestFiles([{ path: 'dir/b.yaml', text }]);
    assert.deepEqual(
      manifests.map((m) => m.manifest.metadata.name),
      ['ok'],
    );
    assert.equal(issues.length, 1);
    const issue = issues[0];
    assert.equal(issue?.file, 'dir/b.yaml');
    assert.equal(issue?.document, 2);
    assert.equal(issue?.line, 11);
    assert.equal(issue?.path, 'spec.balance');
    assert.equal(issue?.kind, 'Backend');
    assert.equal(issue?.name, 'bad');
    assert.match(issue?.message ?? '', /balance algorithm: roundrobin, static-rr/);
    assert.match(formatIssue(issue as Issue), /^dir\/b\.yaml:11:\d+ \(document 2\) Backend\/bad spec\.balance: /);
  });

  it('reports unparseable YAML with its line and keeps the other documents', () => {
    const text =
      'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: {name: ok}\nspec: {type: static}\n---\nkey: [1, 2\n';
    const { manifests, issues } = parseManifestFiles([{ path: 'x.yaml', text }]);
    assert.equal(manifests.length, 1);
    assert.deepEqual(codes(issues), ['yaml-syntax']);
    assert.equal(issues[0]?.document, 2);
    assert.equal(typeof issues[0]?.line, 'number');
  });

  it('rejects duplicate keys in a mapping', () => {
    const { issues } = parseManifestFiles([{ path: 'x.yaml', text: 'kind: Backend\nkind: Frontend\n' }]);
    assert.deepEqual(codes(issues), ['yaml-syntax']);
  });

  it('rejects unknown kinds, non-mapping documents and ignores empty documents', () => {
    const text = 'apiVersion: aqueduct/v1\nkind: Service\n---\n- a list\n---\n';
    const { manifests, issues } = parseManifestFiles([{ path: 'x.yaml', text }]);
    assert.equal(manifests.length, 0);
    assert.deepEqual(codes(issues), ['unknown-kind', 'not-an-object']);
    assert.match(
      issues[0]?.message ?? '',
      /unknown kind: kind "Service" \(expected one of Frontend, Backend, Certificate\)/,
    );
  });

  it('names unknown fields and suggests the closest known one', () => {
    const { issues } = parseManifestFiles([yamlFile('x.yaml', staticBackend('b', [1], { balanse: 'roundrobin' }))]);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, 'spec.balanse');
    assert.match(issues[0]?.message ?? '', /unknown field \(did you mean 'balance'\?\)/);
  });

  it('rejects unknown top-level and metadata fields', () => {
    const doc: JsonObject = { ...staticBackend('b', [1]), status: {} };
    (doc['metadata'] as JsonObject)['uid'] = 'x';
    const { issues } = parseManifestFiles([yamlFile('x.yaml', doc)]);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['metadata.uid', 'status']);
  });

  it('requires apiVersion aqueduct/v1', () => {
    const doc = { ...staticBackend('b', [1]), apiVersion: 'aqueduct/v2' };
    const { issues } = parseManifestFiles([yamlFile('x.yaml', doc)]);
    assert.equal(issues[0]?.path, 'apiVersion');
    assert.match(issues[0]?.message ?? '', /must be 'aqueduct\/v1'/);
  });

  it('explains enum errors with the allowed values', () => {
    const { issues } = parseManifestFiles([
      yamlFile('x.yaml', frontend('f', { bind: '*:80', backend: 'b', mode: 'udp', keepalive: 'sometimes' })),
    ]);
    assert.match(find(issues, 'spec.mode')[0]?.message ?? '', /must be one of: http, tcp \(got "udp"\)/);
    assert.match(find(issues, 'spec.keepalive')[0]?.message ?? '', /must be one of: default, close, server-close/);
  });

  it('checks each rule type against its operations and header', () => {
    const { issues } = parseManifestFiles([
      yamlFile(
        'x.yaml',
        frontend('f', {
          bind: '*:80',
          backend: 'b',
          rules: [
            { type: 'path', operation: 'url_beg', value: '/a', backend: 'b' },
            { type: 'url', operation: 'hdr_dom', value: '/a', backend: 'b' },
            { type: 'header', operation: 'hdr_dom', value: 'x.com', backend: 'b' },
            { type: 'path', operation: 'path', value: '/a', backend: 'b', header: 'host' },
            { type: 'cookie', operation: 'path', value: '/a', backend: 'b' },
          ],
        }),
      ),
    ]);
    assert.match(
      find(issues, 'spec.rules[0].operation')[0]?.message ?? '',
      /path, path_beg, path_reg for a rule of type path/,
    );
    assert.match(
      find(issues, 'spec.rules[1].operation')[0]?.message ?? '',
      /url, url_beg, url_reg for a rule of type url/,
    );
    assert.match(find(issues, 'spec.rules[2].header')[0]?.message ?? '', /is required when the rule type is header/);
    assert.match(find(issues, 'spec.rules[3].header')[0]?.message ?? '', /only allowed for rules of type header/);
    assert.match(find(issues, 'spec.rules[4].type')[0]?.message ?? '', /must be one of: path, url, header/);
  });

  it('requires name and version for dynamic backends and refuses static members on them', () => {
    const { issues } = parseManifestFiles([
      yamlFile('x.yaml', backend('d', { type: 'dynamic', members: [{ host: '127.0.0.1', port: 1 }] })),
    ]);
    assert.match(find(issues, 'spec.name')[0]?.message ?? '', /is required when type is dynamic/);
    assert.match(find(issues, 'spec.version')[0]?.message ?? '', /is required when type is dynamic/);
    assert.match(find(issues, 'spec.members')[0]?.message ?? '', /must be empty for a dynamic backend/);
  });

  it('requires host when health uses HTTP/1.1 (the original rule)', () => {
    const { issues } = parseManifestFiles([
      yamlFile('x.yaml', staticBackend('b', [1], { health: { httpVersion: 'HTTP/1.1' } })),
      yamlFile('y.yaml', staticBackend('c', [1], { host: null, health: { httpVersion: 'HTTP/1.1' } })),
    ]);
    assert.equal(issues.length, 2);
    for (const i of issues) {
      assert.equal(i.path, 'spec.host');
      assert.match(i.message, /HTTP\/1\.1/);
    }
  });

  it('hints to quote YAML numbers given for strings', () => {
    const { issues } = parseManifestFiles([
      {
        path: 'x.yaml',
        text: 'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: {name: d}\nspec: {type: dynamic, name: app, version: 1.0}\n',
      },
    ]);
    assert.equal(issues[0]?.path, 'spec.version');
    assert.match(issues[0]?.message ?? '', /quote it in YAML/);
  });

  it('checks ports, weights, intervals and member hosts', () => {
    const { issues } = parseManifestFiles([
      yamlFile(
        'x.yaml',
        backend('b', {
          type: 'static',
          health: { interval: 5 },
          members: [
            { host: '127.0.0.1', port: 0 },
            { host: 'bad host', port: 80 },
            { host: '127.0.0.1', port: 81, weight: 257 },
            { host: '127.0.0.1', port: 82.5 },
          ],
        }),
      ),
    ]);
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'spec.health.interval',
      'spec.members[0].port',
      'spec.members[1].host',
      'spec.members[2].weight',
      'spec.members[3].port',
    ]);
  });

  it('restricts names to a safe character set', () => {
    const { issues } = parseManifestFiles([
      yamlFile('x.yaml', staticBackend('bad name', [1]), staticBackend('-x', [1])),
    ]);
    assert.equal(issues.length, 2);
    for (const i of issues) assert.equal(i.path, 'metadata.name');
  });

  it('rejects every object of a duplicated name, naming both files', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', staticBackend('live', [1])),
      yamlFile('sub/b.yaml', staticBackend('live', [2])),
      yamlFile('c.yaml', staticBackend('other', [3])),
    ]);
    assert.deepEqual(
      set.backends.map((b) => b.manifest.metadata.name),
      ['other'],
    );
    assert.deepEqual(codes(set.issues), ['duplicate-name', 'duplicate-name']);
    assert.match(set.issues[0]?.message ?? '', /also defined in sub\/b\.yaml \(document 1\)/);
    assert.match(set.issues[1]?.message ?? '', /also defined in a\.yaml \(document 1\)/);
  });

  it('allows a frontend and a backend of the same name', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', frontend('app', { bind: '*:80', backend: 'app' }), staticBackend('app', [1])),
    ]);
    assert.deepEqual(set.issues, []);
  });

  it('rejects a frontend whose default or rule backend does not exist, keeping the others', () => {
    const set = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('f1', { bind: '*:80', backend: 'missing' }),
        frontend('f2', {
          bind: '*:81',
          backend: 'b',
          rules: [{ type: 'path', operation: 'path_beg', value: '/x', backend: 'gone' }],
        }),
        frontend('f3', { bind: '*:82', backend: 'b' }),
        staticBackend('b', [1]),
      ),
    ]);
    assert.deepEqual(
      set.frontends.map((f) => f.manifest.metadata.name),
      ['f3'],
    );
    assert.deepEqual(
      set.issues.map((i) => [i.name, i.path, i.code]),
      [
        ['f1', 'spec.backend', 'missing-backend'],
        ['f2', 'spec.rules[0].backend', 'missing-backend'],
      ],
    );
    assert.match(set.issues[0]?.message ?? '', /backend 'missing' is not defined/);
  });

  it('rejects a frontend that routes to an invalid backend (cascade)', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }), staticBackend('b', [1], { balance: 'nope' })),
    ]);
    assert.equal(set.frontends.length, 0);
    // Issues come in reading order: the frontend is the first document.
    assert.deepEqual(codes(set.issues), ['missing-backend', 'schema']);
  });

  it('rejects a frontend routing to a backend of another mode', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 't' }), staticBackend('t', [1], { mode: 'tcp' })),
    ]);
    assert.deepEqual(codes(set.issues), ['mode-mismatch']);
  });

  it('rejects rules in tcp mode and keepalive options in tcp mode', () => {
    const { issues } = parseManifestFiles([
      yamlFile(
        'a.yaml',
        frontend('f', {
          bind: '*:80',
          backend: 'b',
          mode: 'tcp',
          keepalive: 'close',
          rules: [{ type: 'path', operation: 'path', value: '/', backend: 'b' }],
        }),
      ),
    ]);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['spec.keepalive', 'spec.rules']);
  });

  it('rejects two rules that match the same requests but route differently', () => {
    const set = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('f', {
          bind: '*:80',
          backend: 'a',
          rules: [
            { type: 'path', operation: 'path_beg', value: '/x', backend: 'a' },
            { type: 'path', operation: 'path_beg', value: '/x', backend: 'b' },
          ],
        }),
        staticBackend('a', [1]),
        staticBackend('b', [2]),
      ),
    ]);
    assert.deepEqual(codes(set.issues), ['rule-conflict']);
    assert.equal(set.issues[0]?.path, 'spec.rules[1]');
  });

  it('rejects two frontends binding the same address:port, and wildcard overlaps', () => {
    const set = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('a', { bind: '127.0.0.1:8080', backend: 'b' }),
        frontend('b', { bind: '127.0.0.1:9090,127.0.0.1:8080', backend: 'b' }),
        frontend('c', { bind: '*:7070', backend: 'b' }),
        frontend('d', { bind: '127.0.0.2:7070', backend: 'b' }),
        frontend('e', { bind: '127.0.0.1:6060', backend: 'b' }),
        frontend('v6', { bind: '[::1]:6060', backend: 'b' }),
        staticBackend('b', [1]),
      ),
    ]);
    assert.deepEqual(
      set.frontends.map((f) => f.manifest.metadata.name),
      ['e', 'v6'],
    );
    assert.deepEqual(
      set.issues.map((i) => [i.name, i.code]),
      [
        ['a', 'bind-conflict'],
        ['b', 'bind-conflict'],
        ['c', 'bind-conflict'],
        ['d', 'bind-conflict'],
      ],
    );
    assert.match(set.issues[0]?.message ?? '', /127\.0\.0\.1:8080 conflicts with 127\.0\.0\.1:8080 of frontend 'b'/);
  });

  it('compares binds by what they mean: one socket spelled four ways, IPv6 spellings, [::] over everything', () => {
    const names = (set: ReturnType<typeof loadManifestSet>) => set.frontends.map((f) => f.manifest.metadata.name);
    const spelled = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('plain', { bind: '127.0.0.1:8080', backend: 'b' }),
        frontend('short', { bind: '127.1:8080', backend: 'b' }),
        frontend('octal', { bind: '0177.0.0.1:8080', backend: 'b' }),
        frontend('named', { bind: 'localhost:8080', backend: 'b' }),
        frontend('v6', { bind: '[0:0::1]:9090', backend: 'b' }),
        frontend('v6b', { bind: '[::1]:9090', backend: 'b' }),
        frontend('any6', { bind: '[::]:7070', backend: 'b' }),
        frontend('four', { bind: '10.1.1.1:7070', backend: 'b' }),
        frontend('alone', { bind: '127.0.0.2:8080', backend: 'b' }),
        staticBackend('b', [1]),
      ),
    ]);
    assert.deepEqual(names(spelled), ['alone']);
    // Every claim of a shared socket names its first rival once: 4 on 127.0.0.1, 2 on ::1, 2 under [::].
    assert.equal(spelled.issues.filter((i) => i.code === 'bind-conflict').length, 8);
  });

  it('takes an IPv4-mapped address for the IPv4 one, and finds overlaps among thousands of addresses in linear time', () => {
    const mapped = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('v4', { bind: '127.0.0.1:8080', backend: 'b' }),
        frontend('mapped', { bind: '[::ffff:127.0.0.1]:8080', backend: 'b' }),
        staticBackend('b', [1]),
      ),
    ]);
    assert.deepEqual(mapped.frontends, []);
    // 60 frontends of 120 addresses each, all on one port: the shape of the hostile /diff body.
    const frontends = Array.from({ length: 60 }, (_f, f) =>
      frontend(`f${f}`, {
        bind: Array.from({ length: 120 }, (_a, a) => `127.${f}.${a}.1:80`).join(','),
        backend: 'b',
      }),
    );
    const started = process.hrtime.bigint();
    const big = loadManifestSet([
      yamlFile('a.yaml', ...frontends, frontend('any', { bind: '*:80', backend: 'b' }), staticBackend('b', [1])),
    ]);
    // Each of the 7,200 addresses overlaps '*:80' and says so once (the pairwise scan compared 26 million pairs).
    assert.equal(big.issues.length, 7201);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 5000);
  });

  it("refuses binds that shadow Aqueduct's loopback API, and members that point at it by any spelling", () => {
    const own = {
      ...NO_OWN_ADDRESSES,
      binds: [reservedBind('127.0.0.1', 10000, "Aqueduct's REST API (--host/--port)")],
      local: ['10.9.8.7'],
    };
    for (const bind of [
      '[::1]:10000',
      '[::ffff:127.0.0.1]:10000',
      'localhost.localdomain:10000',
      'ip6-localhost:10000',
    ]) {
      const set = checkManifestSet(
        parseManifestFiles([yamlFile('a.yaml', frontend('f', { bind, backend: 'b' }), staticBackend('b', [1]))])
          .manifests,
        own,
      );
      assert.deepEqual(set.frontends, [], bind);
    }
    for (const host of ['127.0.0.1', '127.1', '0x7f.0.0.1', 'localhost', '0.0.0.0', '::ffff:127.0.0.1', '2130706433']) {
      const set = checkManifestSet(
        parseManifestFiles([yamlFile('a.yaml', backend('b', { type: 'static', members: [{ host, port: 10000 }] }))])
          .manifests,
        own,
      );
      assert.deepEqual(codes(set.issues), ['own-address'], host);
      assert.match(set.issues[0]?.message ?? '', /Aqueduct's REST API/);
    }
    const wildcard = { ...own, binds: [reservedBind('0.0.0.0', 10000, 'the API')] };
    for (const [host, refused] of [
      ['10.9.8.7', true],
      ['127.0.0.9', true],
      ['10.9.8.6', false],
      ['::1', false],
    ] as const) {
      const set = checkManifestSet(
        parseManifestFiles([yamlFile('a.yaml', backend('b', { type: 'static', members: [{ host, port: 10000 }] }))])
          .manifests,
        wildcard,
      );
      assert.equal(set.issues.length > 0, refused, host);
    }
  });

  it('rejects a bind on an address Aqueduct itself listens on, naming it', () => {
    const set = loadManifestSet([
      yamlFile('a.yaml', frontend('f', { bind: '127.1:10000', backend: 'b' }), staticBackend('b', [1])),
    ]);
    const reserved = checkManifestSet(
      parseManifestFiles([
        yamlFile('a.yaml', frontend('f', { bind: '127.1:10000', backend: 'b' }), staticBackend('b', [1])),
      ]).manifests,
      { ...NO_OWN_ADDRESSES, binds: [reservedBind('0.0.0.0', 10000, "Aqueduct's REST API (--host/--port)")] },
    );
    assert.equal(set.frontends.length, 1, 'free when nothing is reserved');
    assert.deepEqual(reserved.frontends, []);
    assert.match(
      reserved.issues[0]?.message ?? '',
      /127\.1:10000 conflicts with \*:10000, where Aqueduct's REST API \(--host\/--port\) listens/,
    );
  });

  it('rejects a bind list overlapping itself and ports out of range', () => {
    const set = loadManifestSet([
      yamlFile(
        'a.yaml',
        frontend('a', { bind: '*:80, 0.0.0.0:80', backend: 'b' }),
        frontend('c', { bind: '*:70000', backend: 'b' }),
        staticBackend('b', [1]),
      ),
    ]);
    assert.equal(set.frontends.length, 0);
    assert.deepEqual(codes(set.issues), ['bind-conflict', 'schema']);
    assert.match(set.issues[1]?.message ?? '', /between 1 and 65535/);
  });

  it('rejects bind strings that are not address:port lists', () => {
    for (const bind of ['8080', '*:', '*:80;', '*:80 ssl crt x', 'a:b:c', '*:80,']) {
      const { issues } = parseManifestFiles([yamlFile('a.yaml', frontend('a', { bind, backend: 'b' }))]);
      assert.equal(issues[0]?.path, 'spec.bind', bind);
    }
  });

  it('rejects duplicate static members', () => {
    const set = loadManifestSet([yamlFile('a.yaml', staticBackend('b', [1, 2, 1]))]);
    assert.deepEqual(codes(set.issues), ['duplicate-member']);
    assert.equal(set.issues[0]?.path, 'spec.members[2]');
  });

  it('never lets one invalid object hide the valid ones', () => {
    const set = loadManifestSet([
      yamlFile(
        'a.yaml',
        staticBackend('good1', [1]),
        staticBackend('bad', [1], { mode: 'udp' }),
        staticBackend('good2', [2]),
      ),
      { path: 'b.yaml', text: 'not: [valid' },
      yamlFile('c.yaml', frontend('f', { bind: '*:80', backend: 'good2' })),
    ]);
    assert.deepEqual(
      set.backends.map((b) => b.manifest.metadata.name),
      ['good1', 'good2'],
    );
    assert.equal(set.frontends.length, 1);
    assert.equal(set.issues.length, 2);
  });
});

describe('lines of fields after loading', () => {
  it('finds a field of any document, in any file, after the parse tree is gone', () => {
    const a = 'apiVersion: aqueduct/v1\nkind: Backend\nmetadata:\n  name: one\nspec:\n  type: static\n  members: []\n';
    const b = `${a}---\n# a comment\n${a.replace('one', 'two').replace('members: []', 'natives:\n    - x')}`;
    const { manifests, issues } = parseManifestFiles([
      { path: 'a.yaml', text: a },
      { path: 'b.yaml', text: b },
    ]);
    assert.deepEqual(issues, []);
    const byName = new Map(manifests.map((m) => [`${m.source.file}/${m.manifest.metadata.name}`, m]));
    // Lookups alternate between files, so a kept re-parse of the wrong file would show.
    assert.equal(byName.get('b.yaml/two')?.lineOf(['spec', 'natives', 0]), 17);
    assert.equal(byName.get('a.yaml/one')?.lineOf(['spec', 'members']), 7);
    assert.equal(byName.get('b.yaml/one')?.lineOf(['metadata', 'name']), 4);
    assert.equal(byName.get('b.yaml/two')?.lineOf(['metadata', 'name']), 13);
    assert.equal(byName.get('b.yaml/two')?.lineOf(['spec', 'nothing-here']), 14);
  });
});
