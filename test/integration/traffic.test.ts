// The example scenario served by a real HAProxy with real traffic: requests
// for staged.myapp.com reach "staged", everything else reaches "live" with
// the Host header rewritten to myapp.com; path and url rules route too.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readManifestDir } from '../../src/sources/manifest-dir.js';
import { ROOT } from '../helpers/cli.js';
import { frontend, staticBackend, tempDir, yamlFile } from '../helpers/fixtures.js';
import {
  freePort,
  getJson,
  startEchoServer,
  startHaproxy,
  type EchoServer,
  type HaproxyProcess,
} from '../helpers/haproxy.js';
import { renderFiles } from '../helpers/render.js';
import { installRouteMaps } from '../../src/haproxy/route-map-files.js';

describe('traffic through HAProxy', () => {
  const echoes: EchoServer[] = [];
  let haproxy: HaproxyProcess | undefined;
  let frontPorts: number[] = [];
  let rulesPort = 0;

  before(async () => {
    // The bundled examples, with their fixed ports swapped for free ones.
    const files = await readManifestDir(path.join(ROOT, 'examples', 'manifests'));
    const portMap = new Map<number, number>();
    for (const p of [8080, 8081, 9001, 9002, 9003, 9004]) portMap.set(p, await freePort());
    const remapped = files.map((f) => ({
      ...f,
      text: f.text.replace(/\b(8080|8081|9001|9002|9003|9004)\b/g, (m) => String(portMap.get(Number(m)))),
    }));
    for (const [name, p] of [
      ['live-1', 9001],
      ['live-2', 9002],
      ['staged-1', 9003],
      ['staged-2', 9004],
    ] as const) {
      echoes.push(await startEchoServer(name, portMap.get(p)));
    }
    frontPorts = [portMap.get(8080) as number, portMap.get(8081) as number];
    // A second frontend exercising path and url rules.
    rulesPort = await freePort();
    const api = await startEchoServer('api');
    const assets = await startEchoServer('assets');
    echoes.push(api, assets);
    const rulesFile = yamlFile(
      'rules.yaml',
      frontend('rules', {
        bind: `127.0.0.1:${rulesPort}`,
        backend: 'live',
        rules: [
          { type: 'path', operation: 'path_beg', value: '/api/', backend: 'api' },
          { type: 'path', operation: 'path_reg', value: '^/article/[0-9]+$', backend: 'api' },
          { type: 'path', operation: 'path', value: '/favicon.ico', backend: 'assets' },
          { type: 'url', operation: 'url_beg', value: '/static?', backend: 'assets' },
          { type: 'header', header: 'host', operation: 'hdr_dom', value: 'assets.example.com', backend: 'assets' },
        ],
      }),
      staticBackend('api', [api.port]),
      staticBackend('assets', [assets.port]),
    );
    const dir = await tempDir();
    const cfg = path.join(dir, 'haproxy.cfg');
    const options = { statsSocketPath: path.join(dir, 'stats.sock'), mapDir: `${cfg}.maps` };
    const { config, set } = renderFiles([...remapped, rulesFile], {}, options);
    assert.deepEqual(set.issues, []);
    await installRouteMaps(config, options.mapDir);
    await writeFile(cfg, config);
    haproxy = await startHaproxy(cfg, frontPorts[0] as number);
  });

  after(async () => {
    await haproxy?.stop();
    await Promise.all(echoes.map((e) => e.close()));
  });

  it('routes by Host header on both bound ports and rewrites Host for live', async () => {
    for (const port of frontPorts) {
      const staged = await getJson(port, '/', 'staged.myapp.com');
      assert.equal(staged.status, 200);
      assert.match(String(staged.body['server']), /^staged-/);
      const live = await getJson(port, '/hello', 'www.example.org');
      assert.equal(live.status, 200);
      assert.match(String(live.body['server']), /^live-/);
      assert.equal(live.body['host'], 'myapp.com');
      assert.equal(live.body['path'], '/hello');
    }
  });

  it('balances round robin across both live members', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(String((await getJson(frontPorts[0] as number, '/', 'x')).body['server']));
    assert.deepEqual([...seen].sort(), ['live-1', 'live-2']);
  });

  it('routes path, regex, exact and url rules', async () => {
    const to = async (p: string, host = 'x') => String((await getJson(rulesPort, p, host)).body['server']);
    assert.equal(await to('/api/users'), 'api');
    assert.equal(await to('/article/42'), 'api');
    assert.match(await to('/article/abc'), /^live-/); // the regex wants digits
    assert.equal(await to('/favicon.ico'), 'assets');
    assert.equal(await to('/static?v=1'), 'assets');
    assert.equal(await to('/', 'assets.example.com'), 'assets');
    assert.match(await to('/other'), /^live-/);
  });

  it('keeps the example manifests file unchanged (ports are remapped in memory only)', async () => {
    const text = await readFile(path.join(ROOT, 'examples', 'manifests', 'frontends', 'myapp.yaml'), 'utf8');
    assert.match(text, /127\.0\.0\.1:8080,127\.0\.0\.1:8081/);
  });
});
