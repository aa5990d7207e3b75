// Routing through maps routes exactly as the ACLs did, on the real HAProxy:
// for random rule sets, one HAProxy serves each set as ACLs (the form every
// rule had before maps) and another serves it through the routing maps,
// loaded from files at start and then replaced at runtime by the planner's
// map update; the same requests must reach the same backends every time.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { compareRules, type DesiredRule, type DesiredState } from '../../src/core/rendering/desired-state.js';
import { aclName } from '../../src/core/rendering/names.js';
import { renderConfig, type RenderOptions } from '../../src/core/rendering/render.js';
import { planChanges } from '../../src/core/planning/plan.js';
import { installRouteMaps } from '../../src/haproxy/route-map-files.js';
import { RuntimeApplier } from '../../src/haproxy/runtime-applier.js';
import { runtimeApi } from '../../src/haproxy/runtime-api.js';
import { freePort, startEchoServer, startHaproxy, type EchoServer } from '../helpers/haproxy.js';
import { tempDir } from '../helpers/fixtures.js';
import { DEFAULT_TEMPLATE } from '../helpers/render.js';
import { serverOf } from '../helpers/wait.js';

const BACKENDS = ['b1', 'b2', 'b3'];
/** Values that overlap one another (prefixes of prefixes, domains of domains), and some a map cannot carry. */
const VALUES: Record<DesiredRule['operation'], string[]> = {
  path: ['/', '/a', '/a/', '/ab', '/a;b'],
  path_beg: ['/', '/a', '/a/', '/a/b', '/ab', '/b', '/a;b'],
  path_reg: ['^/a', 'b$', '^/a/[^/]*$', '\\.json$'],
  url: ['/a?q=1', '/a', '/b?x'],
  url_beg: ['/', '/a', '/a?', '/b?x'],
  url_reg: ['q=1$', '^/b', '\\?x$'],
  hdr_dom: ['a.test', 'b.a.test', 'test', 'c.test'],
};
const HOSTS = ['a.test', 'b.a.test', 'x.b.a.test:8080', 'c.test', 'other.org'];
const PATHS = ['/', '/a', '/a/', '/a/b', '/ab', '/b', '/a?q=1', '/b?x', '/x.json', '/a;b'];

interface RuleSpec {
  operation: DesiredRule['operation'];
  value: string;
  backend: string;
  header: string;
}

const ruleArb: fc.Arbitrary<RuleSpec> = fc
  .constantFrom(...(Object.keys(VALUES) as DesiredRule['operation'][]))
  .chain((operation) =>
    fc.record({
      operation: fc.constant(operation),
      value: fc.constantFrom(...VALUES[operation]),
      backend: fc.constantFrom(...BACKENDS),
      // A header rule on another header stays an ACL between maps; nothing sends it.
      header: fc.constantFrom('host', 'host', 'x-site'),
    }),
  );

/** Whether a rule is served from a map (docs/manifests.md: what a map cannot carry stays an ACL). */
const inMap = (r: RuleSpec): boolean =>
  /^[^\s#;\\'"-][^\s#;\\'"]*$/.test(r.value) && (r.operation !== 'hdr_dom' || r.header === 'host');

/** The frontend's rules as desired-state.ts orders and merges them. */
function desiredRules(specs: readonly RuleSpec[]): DesiredRule[] {
  const rules = new Map<string, DesiredRule>();
  for (const r of specs) {
    const header = r.operation === 'hdr_dom' ? r.header : undefined;
    const d: DesiredRule = {
      acl: aclName({ operation: r.operation, value: r.value, ...(header !== undefined && { header }) }),
      criterion: header === undefined ? r.operation : `hdr_dom(${header})`,
      value: r.value,
      backend: r.backend,
      type: r.operation === 'hdr_dom' ? 'header' : r.operation.startsWith('url') ? 'url' : 'path',
      operation: r.operation,
    };
    rules.set(`${d.acl}\0${d.backend}`, d);
  }
  return [...rules.values()].sort(compareRules);
}

/** Before maps, the bundled template rendered every rule as an ACL and a use_backend line. */
const ACL_TEMPLATE = DEFAULT_TEMPLATE.replace(
  /\{\{#routes\}\}[\s\S]*?\{\{\/routes\}\}\n/,
  '{{#acls}}\n  acl {{name}} {{criterion}} -- {{quotedValue}}\n{{/acls}}\n{{#useBackends}}\n  use_backend {{backend}} if {{acl}}\n{{/useBackends}}\n',
);

describe('routing maps on the real HAProxy', () => {
  const echoes = new Map<string, EchoServer>();
  let dir: string;
  before(async () => {
    for (const name of [...BACKENDS, 'fallback']) echoes.set(name, await startEchoServer(name));
    dir = await tempDir('aqueduct-route-maps-');
  });
  after(async () => {
    for (const e of echoes.values()) await e.close();
  });

  const state = (frontends: { name: string; port: number; rules: DesiredRule[] }[]): DesiredState => ({
    frontends: frontends.map((f) => ({
      name: f.name,
      mode: 'http',
      keepalive: 'default',
      binds: [`127.0.0.1:${f.port}`],
      defaultBackend: 'fallback',
      rules: f.rules,
      natives: [],
    })),
    backends: [...echoes].map(([name, e]) => ({
      name,
      type: 'static',
      mode: 'http',
      balance: 'roundrobin',
      host: null,
      checkInterval: 2000,
      natives: [],
      servers: [{ name: `${name}_1`, host: '127.0.0.1', port: e.port, address: `127.0.0.1:${e.port}` }],
    })),
  });

  const options = (name: string): RenderOptions => ({
    statsSocketPath: path.join(dir, `${name}.sock`),
    mapDir: path.join(dir, `${name}.maps`),
    accessLog: 'off',
  });

  /** Which backend each request of HOSTS × PATHS reaches through the frontend on port. */
  const routes = async (port: number): Promise<string[]> => {
    const out: string[] = [];
    for (const host of HOSTS) for (const p of PATHS) out.push(`${host}${p} -> ${await serverOf(port, host, p)}`);
    return out;
  };

  const start = async (name: string, config: string, port: number) => {
    const opts = options(name);
    await mkdir(opts.mapDir as string, { recursive: true });
    await installRouteMaps(config, opts.mapDir as string);
    const file = path.join(dir, `${name}.cfg`);
    await writeFile(file, config);
    return startHaproxy(file, port);
  };

  it('writes only the maps in its folder, and removes the ones no rule uses any more', async () => {
    const mapDir = path.join(dir, 'own.maps');
    const elsewhere = path.join(dir, 'elsewhere');
    await mkdir(mapDir, { recursive: true });
    await writeFile(path.join(mapDir, 'old.1.map'), '/x a\n');
    await writeFile(path.join(mapDir, 'notes.txt'), 'an operator file\n');
    const config = `frontend web\n  # route-map ${mapDir}/web.1.map /a b1\n  # route-map ${elsewhere}/web.1.map /a b1\n`;
    await installRouteMaps(config, mapDir);
    assert.deepEqual((await readdir(mapDir)).sort(), ['notes.txt', 'web.1.map']);
    assert.equal(await readFile(path.join(mapDir, 'web.1.map'), 'utf8'), '/a b1\n');
    await assert.rejects(readdir(elsewhere), { code: 'ENOENT' });
  });

  it('routes every request as the ACLs did, from map files and after a runtime update', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ruleArb, { maxLength: 12 }),
        fc.array(fc.constantFrom(...BACKENDS), { minLength: 12, maxLength: 12 }),
        async (specs, moved) => {
          // The second set: the same rules, those in maps pointed at other backends (the same maps, new
          // entries; a rule kept as an ACL keeps its backend, since moving it is a reload).
          const first = desiredRules(specs);
          const second = desiredRules(specs.map((r, i) => (inMap(r) ? { ...r, backend: moved[i] as string } : r)));
          const [a1, a2, m] = [await freePort(), await freePort(), await freePort()];
          const acls = renderConfig(
            ACL_TEMPLATE,
            state([
              { name: 'a1', port: a1, rules: first },
              { name: 'a2', port: a2, rules: second },
            ]),
            options('acl'),
          );
          const mapped = (rules: DesiredRule[]) =>
            renderConfig(DEFAULT_TEMPLATE, state([{ name: 'm', port: m, rules }]), options('map'));
          const aclProxy = await start('acl', acls, a1);
          const mapProxy = await start('map', mapped(first), m);
          try {
            assert.deepEqual(await routes(m), await routes(a1), 'loaded from the map files');
            const plan = planChanges(mapped(first), mapped(second));
            assert.ok(plan.kind !== 'reload', plan.reasons.join('; '));
            if (plan.kind === 'runtime') {
              const api = runtimeApi(options('map').statsSocketPath);
              await new RuntimeApplier(api, pino({ level: 'silent' }), 1000).apply(plan.ops);
            }
            assert.deepEqual(await routes(m), await routes(a2), 'after the runtime map update');
          } finally {
            await mapProxy.stop();
            await aclProxy.stop();
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});
