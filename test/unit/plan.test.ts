import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSections, splitSections, supportsRuntimeServers } from '../../src/core/rendering/config-sections.js';
import { describeCheckErrors, sectionAtLine } from '../../src/core/haproxy-output/check-errors.js';
import { detectDrift } from '../../src/core/planning/drift.js';
import { parseServersState, parseShowProc, parseStatCsv } from '../../src/core/haproxy-output/runtime-output.js';
import { planChanges, withDesiredServers } from '../../src/core/planning/plan.js';
import { backend, frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';
import { renderFiles } from '../helpers/render.js';

const cfg = (servers: string[], balance = 'roundrobin', extra = '') =>
  `global\n  maxconn 10\n\nfrontend f\n  bind *:80\n  default_backend b\n\nbackend b\n  balance ${balance}\n${extra}${servers.map((s) => `  server ${s}\n`).join('')}`;

describe('config sections', () => {
  it('splits sections and server lines, ignoring comments, blank lines and spacing', () => {
    const sections = parseSections(
      '# c\nglobal\n\tmaxconn   10\nbackend b\n  # x\n  balance roundrobin\n  server s1   127.0.0.1:1 check\n',
    );
    assert.deepEqual(
      sections.map((s) => s.header),
      ['', 'global', 'backend b'],
    );
    assert.deepEqual(sections[1]?.lines, ['maxconn 10']);
    const b = sections[2];
    assert.equal(b?.name, 'b');
    assert.deepEqual(b?.lines, ['balance roundrobin']);
    assert.deepEqual([...(b?.servers.values() ?? [])], [{ name: 's1', text: 'server s1 127.0.0.1:1 check' }]);
    assert.equal(splitSections('global\nbackend b\n  server a x\n').length, 3);
  });

  it('knows which algorithms take runtime servers', () => {
    const backendSection = (text: string) => {
      const s = parseSections(text)[1];
      assert.ok(s !== undefined);
      return s;
    };
    const section = (balance: string, extra = '') => backendSection(`backend b\n  balance ${balance}\n${extra}`);
    for (const a of ['roundrobin', 'leastconn', 'random', 'random(2)'])
      assert.ok(supportsRuntimeServers(section(a)), a);
    for (const a of ['static-rr', 'first', 'source', 'uri', 'hdr(host)'])
      assert.ok(!supportsRuntimeServers(section(a)), a);
    assert.ok(supportsRuntimeServers(section('source', '  hash-type consistent\n')));
    assert.ok(supportsRuntimeServers(backendSection('backend b\n  server a x\n')), 'roundrobin is the default');
  });
});

describe('planChanges', () => {
  it('is a reload with nothing applied, and a noop for equal bytes', () => {
    assert.equal(planChanges(undefined, cfg([])).kind, 'reload');
    assert.deepEqual(planChanges(cfg(['a 1.1.1.1:1 check']), cfg(['a 1.1.1.1:1 check'])), {
      kind: 'noop',
      reasons: ['config unchanged'],
    });
  });

  it('turns member and weight changes into runtime ops', () => {
    const plan = planChanges(
      cfg(['a 1.1.1.1:1 check', 'b 1.1.1.2:1 check weight 2']),
      cfg(['b 1.1.1.2:1 check weight 5', 'c 1.1.1.3:1 check']),
    );
    assert.equal(plan.kind, 'runtime');
    assert.deepEqual(plan.kind === 'runtime' ? plan.ops : [], [
      { op: 'add', backend: 'b', server: 'c', address: '1.1.1.3:1', args: ['check'] },
      { op: 'set-weight', backend: 'b', server: 'b', weight: 5 },
      { op: 'remove', backend: 'b', server: 'a' },
    ]);
    assert.deepEqual(plan.reasons, ['servers: 1 add, 1 remove, 1 set-weight']);
  });

  it('adds and enables new servers before draining old ones, whatever the text order (make before break)', () => {
    const plan = planChanges(
      cfg(['a 1.1.1.1:1 check', 'b 1.1.1.2:1 check weight 4', 'c 1.1.1.3:1 check weight 1']),
      cfg(['b 1.1.1.2:1 check weight 0', 'c 1.1.1.3:1 check weight 9', 'z 1.1.1.9:1 check']),
    );
    assert.deepEqual(
      plan.kind === 'runtime' ? plan.ops.map((o) => `${o.op} ${'server' in o ? o.server : o.file}`) : [],
      ['add z', 'set-weight c', 'set-weight b', 'remove a'],
    );
  });

  it('reloads for structural changes, option changes and static algorithms', () => {
    assert.deepEqual(planChanges(cfg([]), cfg([], 'leastconn')).reasons, ['backend b changed']);
    assert.match(
      planChanges(cfg(['a 1.1.1.1:1 check']), cfg(['a 1.1.1.1:1 check inter 5000'])).reasons[0] ?? '',
      /server a changed options/,
    );
    const r = planChanges(cfg(['a 1.1.1.1:1'], 'static-rr'), cfg(['a 1.1.1.1:1', 'b 1.1.1.2:1'], 'static-rr'));
    assert.equal(r.kind, 'reload');
    assert.match(r.reasons[0] ?? '', /cannot change servers at runtime/);
    assert.equal(planChanges(cfg([]), `${cfg([])}\nbackend c\n`).kind, 'reload');
  });

  it('writes a comment-only change without reloading', () => {
    const plan = planChanges(cfg([]), `# note\n${cfg([])}`);
    assert.deepEqual(plan, { kind: 'runtime', ops: [], reasons: ['comments only'] });
  });

  it('plans a member change of rendered manifests as runtime, and a rule change as reload', () => {
    const fe = frontend('f', { bind: '*:80', backend: 'b' });
    const before = renderFiles([yamlFile('a.yaml', fe, staticBackend('b', [1, 2]))]).config;
    assert.equal(
      planChanges(before, renderFiles([yamlFile('a.yaml', fe, staticBackend('b', [1, 3]))]).config).kind,
      'runtime',
    );
    const rules = frontend('f', {
      bind: '*:80',
      backend: 'b',
      rules: [{ type: 'path', operation: 'path', value: '/x', backend: 'b' }],
    });
    assert.equal(
      planChanges(before, renderFiles([yamlFile('a.yaml', rules, staticBackend('b', [1, 2]))]).config).kind,
      'reload',
    );
  });

  it('takes the desired servers into the applied structure for a deferred reload', () => {
    const a = renderFiles([yamlFile('a.yaml', staticBackend('b', [1]), staticBackend('old', [9]))]).state;
    const d = renderFiles([
      yamlFile('a.yaml', staticBackend('b', [2], { balance: 'leastconn' }), backend('new', { type: 'static' })),
    ]).state;
    const merged = withDesiredServers(a, d);
    assert.deepEqual(
      merged.backends.map((b) => [b.name, b.balance, b.servers.map((s) => s.port)]),
      [
        ['b', 'roundrobin', [2]],
        ['old', 'roundrobin', [9]],
      ],
    );
  });
});

describe('HAProxy output', () => {
  it('parses show proc, with old workers and failed reloads', () => {
    const out =
      '#<PID> <type> <reloads> <uptime> <version>\n8211 master 2 [failed: 1] 0d00h00m06s 2.6.12\n# workers\n8329 worker 1 0d00h00m01s 2.6.12\n# old workers\n8214 worker 2 0d00h00m09s 2.6.12\n# programs\n';
    assert.deepEqual(parseShowProc(out), {
      masterPid: 8211,
      reloads: 2,
      failedReloads: 1,
      workers: [8329],
      oldWorkers: [8214],
    });
    assert.equal(parseShowProc('garbage'), undefined);
  });

  it('parses show servers state by its header', () => {
    const out =
      '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 live 1 live_127.0.0.1:9001 127.0.0.1 2 1 7 1 4 8 2 0 6 0 0 0 - 9001 -\n';
    assert.deepEqual(parseServersState(out), [
      {
        backend: 'live',
        server: 'live_127.0.0.1:9001',
        address: '127.0.0.1',
        port: 9001,
        adminState: 1,
        operationalState: 2,
        weight: 7,
        checkResult: 2,
      },
    ]);
  });

  it('parses show stat CSV', () => {
    assert.deepEqual(parseStatCsv('# pxname,svname,scur\nb,s1,3\n'), [{ pxname: 'b', svname: 's1', scur: '3' }]);
  });
});

describe('drift', () => {
  const state = (server: string, admin = 0, weight = 1) => ({
    backend: 'b',
    server,
    address: '1.1.1.1',
    port: 1,
    checkResult: 3,
    adminState: admin,
    operationalState: 2,
    weight,
  });

  it('repairs missing, extra, reweighted and disabled servers', () => {
    const applied = cfg(['a 1.1.1.1:1 check', 'b 1.1.1.2:1 check weight 3', 'c 1.1.1.3:1 check']);
    const drift = detectDrift(
      applied,
      [state('b', 0, 1), state('c', 1), state('x'), state('draining')],
      new Set(['b/draining']),
    );
    assert.deepEqual(drift.ops, [
      { op: 'add', backend: 'b', server: 'a', address: '1.1.1.1:1', args: ['check'] },
      { op: 'set-weight', backend: 'b', server: 'b', weight: 3 },
      { op: 'ready', backend: 'b', server: 'c' },
      { op: 'remove', backend: 'b', server: 'x' },
    ]);
    assert.deepEqual(drift.needsReload, []);
  });

  it('asks for a reload where the runtime API cannot repair', () => {
    const drift = detectDrift(cfg(['a 1.1.1.1:1'], 'static-rr'), []);
    assert.deepEqual(drift.needsReload, ['b/a missing']);
  });

  it('finds nothing when HAProxy matches the config', () => {
    assert.deepEqual(detectDrift(cfg(['a 1.1.1.1:1 check']), [state('a')]), { ops: [], needsReload: [], reasons: [] });
  });
});

describe('check errors', () => {
  it('maps a config line to its section and manifest', () => {
    const config = 'global\n  x\nbackend api\n  frobnicate\n';
    assert.deepEqual(sectionAtLine(config, 4), { kind: 'backend', name: 'api' });
    const lines = describeCheckErrors(
      config,
      [{ line: 4, message: "unknown keyword 'frobnicate'" }, { message: 'Fatal errors found in configuration.' }],
      (kind, name) => (kind === 'Backend' && name === 'api' ? 'backends/api.yaml' : undefined),
    );
    assert.deepEqual(lines, ["backends/api.yaml Backend/api: unknown keyword 'frobnicate' (config line 4)"]);
  });
});
