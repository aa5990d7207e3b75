import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDesiredState, compareRules, type DesiredRule } from '../../src/core/rendering/desired-state.js';
import { aclName, serverName } from '../../src/core/rendering/names.js';
import { buildView, checkRenderOptions, checkTemplate, renderConfig } from '../../src/core/rendering/render.js';
import { parseBuild } from '../../src/haproxy/check.js';
import { backend, everyFieldSet, frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';
import { DEFAULT_TEMPLATE, renderFiles, TEST_RENDER_OPTIONS } from '../helpers/render.js';

const lines = (config: string) => config.split('\n').map((l) => l.trim());
const section = (config: string, header: string): string[] => {
  const all = config.split('\n');
  const start = all.indexOf(header);
  assert.notEqual(start, -1, `no section ${header}`);
  const out: string[] = [];
  for (const l of all.slice(start + 1)) {
    if (l.trim() === '' || !l.startsWith(' ')) break;
    out.push(l.trim());
  }
  return out;
};

const HTTP_LOG_FORMAT =
  `log-format '{"type":"http","frontend":"%f","backend":"%b","server":"%s","client":"%ci:%cp","method":"%HM","path":"%HP",` +
  `"status":%ST,"bytes_read":%B,"bytes_uploaded":%U,"time_request_ms":%TR,"time_queue_ms":%Tw,"time_connect_ms":%Tc,` +
  `"time_response_ms":%Tr,"time_total_ms":%Ta,"termination":"%tsc","retries":%rc}'`;

describe('rendering', () => {
  it('renders the README scenario with modern directives only', () => {
    const { config } = renderFiles([
      yamlFile(
        'x.yaml',
        frontend('myapp', {
          bind: '*:8080,*:80',
          backend: 'live',
          rules: [
            { type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.myapp.com', backend: 'staged' },
          ],
        }),
        staticBackend('live', [9001], { host: 'myapp.com', health: { uri: '/health', httpVersion: 'HTTP/1.1' } }),
        staticBackend('staged', [9003]),
      ),
    ]);
    assert.deepEqual(section(config, 'frontend myapp'), [
      'bind *:80',
      'bind *:8080',
      'mode http',
      '# Old workers close idle keep-alive connections after a reload: no request lost.',
      'option idle-close-on-response',
      '# One JSON line per request (Aqueduct reads them from stdout in managed mode).',
      'log stdout format raw local0',
      HTTP_LOG_FORMAT,
      'use_backend %[req.hdr(host),map_dom(/tmp/maps/myapp.1.map)] if { req.hdr(host),map_dom(/tmp/maps/myapp.1.map) -m found }',
      '# route-map /tmp/maps/myapp.1.map staged.myapp.com staged',
      'default_backend live',
    ]);
    assert.deepEqual(section(config, 'backend live'), [
      'mode http',
      'balance roundrobin',
      'http-request set-header Host myapp.com',
      'option httpchk',
      'http-check send meth GET uri /health ver HTTP/1.1 hdr Host myapp.com',
      'server live_127.0.0.1:9001 127.0.0.1:9001 check inter 2000',
    ]);
    for (const banned of ['reqirep', 'option forceclose', 'listen stats', '\\r\\nHost']) {
      assert.ok(!config.includes(banned), banned);
    }
    assert.ok(lines(config).includes('option idle-close-on-response'));
    assert.ok(lines(config).includes('stats socket /tmp/aqueduct-test.sock mode 600 level admin expose-fd listeners'));
  });

  it('opens no port beyond the declared frontends unless a stats page is configured', () => {
    const files = [
      yamlFile('x.yaml', frontend('f', { bind: '127.0.0.1:8080', backend: 'b' }), staticBackend('b', [1])),
    ];
    const binds = (config: string) => lines(config).filter((l) => l.startsWith('bind '));
    assert.deepEqual(binds(renderFiles(files).config), ['bind 127.0.0.1:8080']);
    const withStats = renderFiles(files, {}, { ...TEST_RENDER_OPTIONS, statsBind: '127.0.0.1:1988' }).config;
    assert.deepEqual(binds(withStats), ['bind 127.0.0.1:1988', 'bind 127.0.0.1:8080']);
    assert.ok(withStats.includes('frontend aqueduct-stats'));
  });

  it('maps keepalive to current HAProxy options', () => {
    const options = (keepalive: string) =>
      section(
        renderFiles([
          yamlFile('x.yaml', frontend('f', { bind: '*:80', backend: 'b', keepalive }), staticBackend('b', [1])),
        ]).config,
        'frontend f',
      ).filter((l) => l.startsWith('option'));
    const idle = 'option idle-close-on-response';
    assert.deepEqual(options('default'), [idle]);
    assert.deepEqual(options('close'), [idle, 'option httpclose']);
    assert.deepEqual(options('server-close'), [idle, 'option http-server-close']);
  });

  it('renders tcp backends with connect checks and no HTTP directives', () => {
    const { config } = renderFiles([
      yamlFile(
        'x.yaml',
        frontend('f', { bind: '*:5432', backend: 'pg', mode: 'tcp' }),
        staticBackend('pg', [5433], { mode: 'tcp', host: 'db.local', health: { interval: 3000 } }),
      ),
    ]);
    assert.deepEqual(section(config, 'backend pg'), [
      'mode tcp',
      'balance roundrobin',
      'server pg_127.0.0.1:5433 127.0.0.1:5433 check inter 3000',
    ]);
  });

  it('renders weights (including 0), IPv6 members and natives in place', () => {
    const { config } = renderFiles([
      yamlFile(
        'x.yaml',
        backend('b', {
          type: 'static',
          natives: ['timeout server 5s'],
          members: [
            { host: '127.0.0.1', port: 2, weight: 0 },
            { host: '::1', port: 3 },
            { host: '127.0.0.1', port: 1, weight: 7 },
          ],
        }),
      ),
    ]);
    assert.deepEqual(section(config, 'backend b'), [
      'mode http',
      'balance roundrobin',
      'timeout server 5s',
      'server b_127.0.0.1:1 127.0.0.1:1 check inter 2000 weight 7',
      'server b_127.0.0.1:2 127.0.0.1:2 check inter 2000 weight 0',
      'server b_::1:3 [::1]:3 check inter 2000',
    ]);
  });

  it('takes dynamic members from the member map by backend name, deduplicated and sorted', () => {
    const files = [yamlFile('x.yaml', backend('api', { type: 'dynamic', name: 'app', version: '1.0.0' }))];
    const members = {
      api: [
        { host: '10.0.0.2', port: 80 },
        { host: '10.0.0.1', port: 80 },
        { host: '10.0.0.2', port: 80 },
      ],
      other: [{ host: '10.9.9.9', port: 1 }],
    };
    const servers = section(renderFiles(files, members).config, 'backend api').filter((l) => l.startsWith('server'));
    assert.deepEqual(servers, [
      'server api_10.0.0.1:80 10.0.0.1:80 check inter 2000',
      'server api_10.0.0.2:80 10.0.0.2:80 check inter 2000',
    ]);
    assert.deepEqual(
      section(renderFiles(files, {}).config, 'backend api').filter((l) => l.startsWith('server')),
      [],
    );
  });

  it('does not pick up Object.prototype members for a backend called constructor', () => {
    const files = [yamlFile('x.yaml', backend('constructor', { type: 'dynamic', name: 'app', version: '1' }))];
    const servers = section(renderFiles(files, {}).config, 'backend constructor').filter((l) => l.startsWith('server'));
    assert.deepEqual(servers, []);
  });

  it('derives stable names: servers from backend, host and port; ACLs from rule content', () => {
    assert.equal(serverName('live', '10.10.240.121', 8080), 'live_10.10.240.121:8080');
    const a = aclName({ operation: 'path_beg', value: '/api/' });
    assert.equal(a, aclName({ operation: 'path_beg', value: '/api/' }));
    assert.match(a, /^path_beg_[0-9a-f]{10}$/);
    assert.notEqual(a, aclName({ operation: 'path_beg', value: '/api' }));
    assert.notEqual(a, aclName({ operation: 'url_beg', value: '/api/' }));
    assert.equal(
      aclName({ operation: 'hdr_dom', header: 'Host', value: 'a' }),
      aclName({ operation: 'hdr_dom', header: 'host', value: 'a' }),
    );
  });

  it('orders rules by precedence: header, exact, longest prefix, regex', () => {
    const rule = (operation: DesiredRule['operation'], value: string): DesiredRule => ({
      acl: aclName({ operation, value }),
      criterion: operation,
      value,
      backend: 'b',
      type: operation.startsWith('url') ? 'url' : operation === 'hdr_dom' ? 'header' : 'path',
      operation,
    });
    const sorted = [
      rule('path_reg', '^/a'),
      rule('path_beg', '/a'),
      rule('path_beg', '/a/b/c'),
      rule('path', '/x'),
      rule('hdr_dom', 'x.com'),
      rule('url_beg', '/a/b'),
    ]
      .sort(compareRules)
      .map((r) => `${r.operation} ${r.value}`);
    assert.deepEqual(sorted, [
      'hdr_dom x.com',
      'path /x',
      'path_beg /a/b/c',
      'url_beg /a/b',
      'path_beg /a',
      'path_reg ^/a',
    ]);
  });

  it('renders the same bytes whatever the order of documents, rules and members', () => {
    const set = everyFieldSet();
    const reordered = structuredClone(set).reverse();
    for (const doc of reordered) {
      const spec = doc['spec'] as Record<string, unknown>;
      if (Array.isArray(spec['rules'])) spec['rules'].reverse();
      if (Array.isArray(spec['members'])) spec['members'].reverse();
    }
    const a = renderFiles([yamlFile('a.yaml', ...set)]).config;
    const b = renderFiles([
      yamlFile('z.yaml', ...reordered.slice(0, 3)),
      yamlFile('b/a.yaml', ...reordered.slice(3)),
    ]).config;
    assert.equal(a, b);
  });

  it('renders without idle-close-on-response for an HAProxy that lacks it', () => {
    const files = [yamlFile('x.yaml', staticBackend('b', [1]))];
    const config = renderFiles(files, {}, { ...TEST_RENDER_OPTIONS, features: { idleCloseOnResponse: false } }).config;
    assert.ok(!config.includes('idle-close-on-response'));
  });

  it('renders hard-stop-after and mworker-max-reloads only when set', () => {
    const files = [yamlFile('x.yaml', staticBackend('b', [1]))];
    assert.ok(!renderFiles(files).config.includes('hard-stop-after'));
    const config = renderFiles(
      files,
      {},
      { ...TEST_RENDER_OPTIONS, hardStopAfter: '5m', mworkerMaxReloads: 20 },
    ).config;
    assert.ok(lines(config).includes('hard-stop-after 5m'));
    assert.ok(lines(config).includes('mworker-max-reloads 20'));
  });

  it('gives custom templates the documented view and does not HTML-escape', () => {
    const { state } = renderFiles([yamlFile('x.yaml', ...everyFieldSet())]);
    const template =
      '{{#backends}}{{name}}:{{#servers}}{{address}}&{{/servers}}\n{{/backends}}{{#frontends}}{{#acls}}{{quotedValue}}\n{{/acls}}{{/frontends}}';
    const out = renderConfig(template, state, TEST_RENDER_OPTIONS);
    assert.match(out, /^live:127\.0\.0\.1:19001&127\.0\.0\.1:19002&$/m);
    assert.match(out, /^'\^\/article\/\[\^\/\]\*\$'$/m);
    const view = buildView(state, TEST_RENDER_OPTIONS);
    assert.equal(view.global.statsSocketPath, '/tmp/aqueduct-test.sock');
    assert.equal(view.backends.find((b) => b.name === 'live')?.servers[1]?.weight, 0);
  });

  it('reports a template that does not parse', () => {
    assert.deepEqual(checkTemplate(DEFAULT_TEMPLATE, 'default'), []);
    const issues = checkTemplate('{{#frontends}}never closed', 'bad.mustache');
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.code, 'template');
    assert.match(issues[0]?.message ?? '', /Unclosed section "frontends"/);
  });

  it('refuses render options that could inject syntax', () => {
    assert.deepEqual(checkRenderOptions(TEST_RENDER_OPTIONS), []);
    const bad = checkRenderOptions({
      statsSocketPath: '/tmp/x.sock level admin\nlisten evil',
      statsBind: '*:80 ssl',
      hardStopAfter: '5m\n',
      mworkerMaxReloads: 0,
    });
    assert.deepEqual(
      bad.map((i) => i.path),
      ['haproxySocketPath', 'statsBind', 'hardStopAfter', 'mworkerMaxReloads'],
    );
  });

  it("ends ACL flags with '--' so a value like -i stays a pattern, not a flag", () => {
    const { config } = renderFiles([
      yamlFile(
        'x.yaml',
        frontend('f', {
          bind: '*:80',
          backend: 'b',
          rules: [{ type: 'path', operation: 'path', value: '-i', backend: 'b' }],
        }),
        staticBackend('b', [1]),
      ),
    ]);
    const acl = aclName({ operation: 'path', value: '-i' });
    assert.ok(lines(config).includes(`acl ${acl} path -- '-i'`));
  });

  it('builds an empty state from no manifests', () => {
    assert.deepEqual(buildDesiredState([], [], {}), { frontends: [], backends: [] });
  });
});

describe('access log', () => {
  const files = [
    yamlFile('x.yaml', frontend('web', { bind: '*:8080', backend: 'b' }), staticBackend('b', [9001])),
    yamlFile(
      'y.yaml',
      frontend('db', { bind: '*:5432', backend: 't', mode: 'tcp' }),
      staticBackend('t', [5433], { mode: 'tcp' }),
    ),
  ];
  const logLines = (config: string, name: string) => section(config, name).filter((l) => /^(?:log|no log)\b/.test(l));

  it('logs every frontend as JSON lines to stdout by default, httplog fields for http and tcplog for tcp', () => {
    const { config } = renderFiles(files);
    assert.deepEqual(logLines(config, 'frontend web'), ['log stdout format raw local0', HTTP_LOG_FORMAT]);
    const tcp = logLines(config, 'frontend db');
    assert.equal(tcp[0], 'log stdout format raw local0');
    assert.match(tcp[1] ?? '', /^log-format '\{"type":"tcp",.*"termination":"%ts","retries":%rc\}'$/);
  });

  it('sends them to a syslog address, or nowhere', () => {
    const syslog = renderFiles(files, {}, { ...TEST_RENDER_OPTIONS, accessLog: '127.0.0.1:514' }).config;
    assert.equal(logLines(syslog, 'frontend web')[0], 'log 127.0.0.1:514 local0');
    const off = renderFiles(files, {}, { ...TEST_RENDER_OPTIONS, accessLog: 'off' }).config;
    assert.deepEqual(logLines(off, 'frontend web'), []);
    assert.ok(!off.includes('log-format'));
  });

  it('refuses a target that would inject config', () => {
    for (const bad of ['127.0.0.1:514 local0\n  lua-load /x', 'stdout format raw', '/dev/log', ''])
      assert.deepEqual(
        checkRenderOptions({ ...TEST_RENDER_OPTIONS, accessLog: bad }).map((i) => i.path),
        ['accessLog'],
        bad,
      );
  });
});

describe('haproxy -vv', () => {
  it('reads the version as printed and the build options', () => {
    const vv = [
      'HAProxy version 3.0.11-9e587df 2025/06/02 - https://haproxy.org/',
      'Status: long-term supported branch - will stop receiving fixes around Q2 2029.',
      'Build options :',
      '  TARGET  = linux-glibc',
      '  OPTIONS = USE_OPENSSL=1 USE_LUA=1 USE_PROMEX=1 USE_PCRE2=1 USE_PCRE2_JIT=1',
    ].join('\n');
    assert.deepEqual(parseBuild(vv), {
      version: [3, 0, 11],
      versionText: '3.0.11-9e587df',
      buildOptions: 'USE_OPENSSL=1 USE_LUA=1 USE_PROMEX=1 USE_PCRE2=1 USE_PCRE2_JIT=1',
    });
    assert.deepEqual(parseBuild('HAProxy version 2.6.12-1+deb12u4 2026/10/17')?.version, [2, 6, 12]);
    assert.equal(parseBuild('not haproxy'), undefined);
  });
});
