// Routing rules through maps (core/rendering/route-maps.ts): which rules go
// into which map, and how the planner turns a change of their entries into
// one runtime map update instead of a reload. What HAProxy routes with them
// is proved against the real binary in test/integration/route-maps.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSections, routeMapsOf } from '../../src/core/rendering/config-sections.js';
import { mapOwner, routeViews } from '../../src/core/rendering/route-maps.js';
import type { DesiredRule } from '../../src/core/rendering/desired-state.js';
import { needsCheck, planChanges } from '../../src/core/planning/plan.js';
import { detectMapDrift } from '../../src/core/planning/drift.js';
import { parseShowMap } from '../../src/core/haproxy-output/runtime-output.js';
import { describeCheckErrors } from '../../src/core/haproxy-output/check-errors.js';
import { frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';
import { renderFiles } from '../helpers/render.js';

const rule = (operation: DesiredRule['operation'], value: string, backend: string, criterion: string = operation) =>
  ({ acl: `${operation}_x`, criterion, value, backend, type: 'path', operation }) as DesiredRule;

type RuleSpec = { type: string; operation: string; value: string; backend: string; header?: string };
const site = (rules: RuleSpec[]) =>
  renderFiles([
    yamlFile(
      'x.yaml',
      frontend('web', { bind: '*:80', backend: 'a', rules }),
      staticBackend('a', [9001]),
      staticBackend('b', [9002]),
      staticBackend('c', [9003]),
    ),
  ]).config;

describe('routing maps', () => {
  it('puts each run of rules on one fetch into one map, in order, and keeps the rest as ACLs', () => {
    const views = routeViews(
      'web',
      [
        rule('hdr_dom', 'a.test', 'a', 'hdr_dom(host)'),
        rule('hdr_dom', 'b.test', 'b', 'hdr_dom(host)'),
        rule('hdr_dom', 'x.test', 'b', 'hdr_dom(x-site)'),
        rule('path_beg', '/api/', 'a'),
        rule('path_beg', '/a b', 'b'),
        rule('path_beg', '/', 'c'),
      ],
      '/s/maps',
    );
    assert.deepEqual(
      views.map((v) => (v.map === null ? `acl ${v.acl.criterion} ${v.acl.quotedValue}` : v.map.sample)),
      [
        'req.hdr(host),map_dom(/s/maps/web.1.map)',
        "acl hdr_dom(x-site) 'x.test'",
        'path,map_beg(/s/maps/web.2.map)',
        "acl path_beg '/a b'",
        'path,map_beg(/s/maps/web.3.map)',
      ],
    );
    assert.deepEqual(views[0]?.map?.entries, [
      '# route-map /s/maps/web.1.map a.test a',
      '# route-map /s/maps/web.1.map b.test b',
    ]);
  });

  it('keeps the first rule of a repeated key, as the first matching ACL would', () => {
    const views = routeViews('web', [rule('path', '/x', 'a'), rule('path', '/x', 'b')], '/m');
    assert.deepEqual(views[0]?.map?.entries, ['# route-map /m/web.1.map /x a']);
  });

  it('leaves values a map file or the runtime API would read differently as ACLs', () => {
    for (const value of ['/a;b', '/a\\.b', '#x', '-i', "/a'", '/a"b', '/a\tb'])
      assert.equal(routeViews('web', [rule('path', value, 'a')], '/m')[0]?.map, null, value);
  });

  it('reads back only the entries of maps the section owns', () => {
    assert.equal(mapOwner('/s/maps/web.v2.3.map'), 'web.v2');
    assert.equal(mapOwner('/s/maps/web.map'), undefined);
    const text =
      'frontend web\n  # route-map /m/web.1.map /x a\n  # route-map /m/api.1.map /y evil\n  # route-map /m/web.1.map /z b\n' +
      'frontend api\n  # route-map /m/api.1.map /y c\n';
    assert.deepEqual(
      [...routeMapsOf(text)],
      [
        [
          '/m/web.1.map',
          [
            ['/x', 'a'],
            ['/z', 'b'],
          ],
        ],
        ['/m/api.1.map', [['/y', 'c']]],
      ],
    );
  });

  it('finds the same entries as parsing every section does', () => {
    const config = `${site([
      { type: 'header', operation: 'hdr_dom', header: 'host', value: 'a.test', backend: 'b' },
      { type: 'path', operation: 'path_beg', value: '/api/', backend: 'c' },
      { type: 'path', operation: 'path_beg', value: '/a b', backend: 'c' },
      { type: 'path', operation: 'path_beg', value: '/', backend: 'a' },
    ])}backend x\n  # route-map /tmp/maps/x.1.map /k a\nlisten x.y\n\t#  route-map  /tmp/maps/x.y.1.map  /k  a\n`;
    const parsed = new Map(parseSections(config).flatMap((sec) => [...sec.routeMaps]));
    assert.deepEqual([...routeMapsOf(config)], [...parsed]);
    assert.deepEqual(
      [...parsed.keys()],
      ['/tmp/maps/web.1.map', '/tmp/maps/web.2.map', '/tmp/maps/web.3.map', '/tmp/maps/x.y.1.map'],
    );
  });

  it('plans a rule pointed at another existing backend as one map update, without a reload', () => {
    const before = site([{ type: 'path', operation: 'path_beg', value: '/api/', backend: 'b' }]);
    const after = site([
      { type: 'path', operation: 'path_beg', value: '/api/', backend: 'c' },
      { type: 'path', operation: 'path_beg', value: '/', backend: 'b' },
    ]);
    const plan = planChanges(before, after);
    assert.equal(plan.kind, 'runtime', plan.reasons.join('; '));
    assert.deepEqual(plan.kind === 'runtime' ? plan.ops : [], [
      {
        op: 'set-map',
        file: '/tmp/maps/web.1.map',
        entries: [
          ['/api/', 'c'],
          ['/', 'b'],
        ],
      },
    ]);
    assert.deepEqual(plan.reasons, ['routing maps: web.1.map']);
  });

  it('asks haproxy -c only about a change it could refuse: a reload, or a new entry of a regex map', () => {
    const prefix = (backend: string) => site([{ type: 'path', operation: 'path_beg', value: '/api/', backend }]);
    const regex = (value: string) => site([{ type: 'path', operation: 'path_reg', value, backend: 'b' }]);
    const check = (a: string, b: string) => needsCheck(planChanges(a, b), b);
    assert.equal(check(prefix('b'), prefix('c')), false);
    assert.equal(check(regex('^/a'), regex('^/(b')), true);
    assert.equal(check(prefix('b'), regex('^/a')), true);
  });

  it('repairs a map HAProxy serves differently, as `show map` lists it, and reloads for one it lacks', () => {
    const applied = new Map<string, [string, string][]>([
      ['/m/web.1.map', [['/a', 'b']]],
      ['/m/web.2.map', [['^/x', 'c']]],
      ['/m/web.3.map', [['a.test', 'b']]],
    ]);
    const served = new Map([
      ['/m/web.1.map', parseShowMap('0x55985a7430d0 /a b\n')],
      ['/m/web.2.map', parseShowMap('0x55985a743120 ^/x a\n')],
      ['/m/web.3.map', parseShowMap('Unknown map identifier. Please use #<id> or <file>.')],
    ]);
    const drift = detectMapDrift(applied, served);
    assert.deepEqual(drift.ops, [{ op: 'set-map', file: '/m/web.2.map', entries: [['^/x', 'c']] }]);
    assert.deepEqual(drift.needsReload, ['routing map /m/web.3.map not loaded']);
  });

  it("says HAProxy's complaint about a map entry as the rule it came from", () => {
    const config = site([
      { type: 'path', operation: 'path_reg', value: '^/ok', backend: 'b' },
      { type: 'path', operation: 'path_reg', value: '^/(bad', backend: 'c' },
    ]);
    const line = config.split('\n').findIndex((l) => l.includes('map_reg(')) + 1;
    const message = "regex '^/(bad' is invalid at line 1 of file '/state/candidate-check.cfg.maps/web.1.map'.";
    assert.deepEqual(
      describeCheckErrors(config, [{ line, message }], () => 'x.yaml'),
      [
        `x.yaml Frontend/web: regex '^/(bad' is invalid in the rule for '^/(bad' to c (routing map web.1.map, entry 1). (config line ${line})`,
      ],
    );
  });

  it('reloads when the rules need another map or an ACL', () => {
    const before = site([{ type: 'path', operation: 'path_beg', value: '/api/', backend: 'b' }]);
    const another = site([
      { type: 'path', operation: 'path_beg', value: '/api/', backend: 'b' },
      { type: 'path', operation: 'path', value: '/x', backend: 'c' },
    ]);
    assert.equal(planChanges(before, another).kind, 'reload');
    const acl = site([{ type: 'path', operation: 'path_beg', value: '/a;b', backend: 'b' }]);
    assert.equal(planChanges(before, acl).kind, 'reload');
  });
});
