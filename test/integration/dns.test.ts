// Backends whose members are DNS SRV records, against a real DNS server
// (Debian's dnsmasq) and a real HAProxy under keep-alive load, beside a
// backend on a real Thalassa: records added and removed become members
// within the TTL with no failed request and no reload, a server that stops
// answering leaves the members as they were (and the status says so), and a
// version switch and a weighted split work across two SRV names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { launchBrowser } from '../helpers/browser.js';
import { startDns, type DnsServer, type Zone } from '../helpers/dns.js';
import { haproxyServingPorts } from '../helpers/edge.js';
import { assertNoLoss, startLoad } from '../helpers/load.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { startRedis, thalassaServer, type Redis, type Thalassa } from '../helpers/thalassa.js';
import { eventually, serverOf } from '../helpers/wait.js';

const SERVICE = '_http._tcp.{version}.myapp.test';

describe('members from DNS SRV records (dnsmasq)', () => {
  let s: Scenario;
  let dns: DnsServer;
  let redis: Redis;
  let thalassa: Thalassa;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const port = (name: string) => s.echoes.get(name)?.port as number;
  const target = (host: string, echo: string) => ({
    host: `${host}.myapp.test`,
    address: '127.0.0.1',
    port: port(echo),
  });
  const zone = (v1: string[], v2: string[] = []): Zone => ({
    '_http._tcp.v1.myapp.test': v1.map((e, i) => target(`a${i}`, e)),
    ...(v2.length > 0 && { '_http._tcp.v2.myapp.test': v2.map((e, i) => target(`b${i}`, e)) }),
  });
  const serving = (ports: number[]) =>
    eventually(
      () => haproxyServingPorts(aq.statsSocket, 'web'),
      (p) => p.join() === [...ports].sort((a, b) => a - b).join(),
      10_000,
    );
  const reloads = async () => (await showProcRetrying(aq.masterSocket)).reloads;

  before(async () => {
    s = await scenario();
    dns = await startDns('myapp.test', zone(['live-1']));
    redis = await startRedis();
    thalassa = await thalassaServer(redis);
    await thalassa.start();
    await thalassa.register('myapp', '1.0.0', port('extra-1'));
    aq = await startAqueductProcess({
      args: ['--minReloadInterval', '100', '--dnsServer', dns.server, '--dnsMinRefresh', '200'],
      env: {
        AQUEDUCT_REGISTRY: 'thalassa',
        AQUEDUCT_THALASSA_HOST: '127.0.0.1',
        AQUEDUCT_THALASSA_PORT: String(thalassa.port),
        AQUEDUCT_THALASSA_API_PORT: String(thalassa.apiPort),
      },
    });
    api = apiClient(aq.api);
    await aq.waitFor((l) => l.msg === 'registry events connected', 15_000, 0);
    const web = { type: 'dynamic', source: 'dns', service: SERVICE, version: 'v1' };
    assert.equal((await api('PUT', '/backends/web', web)).status, 200);
    assert.equal((await api('PUT', '/backends/reg', { type: 'dynamic', name: 'myapp', version: '1.0.0' })).status, 200);
    const rules = [{ type: 'header', header: 'host', operation: 'hdr_dom', value: 'thalassa.test', backend: 'reg' }];
    const fe = await api('PUT', '/frontends/myapp?wait=applied', {
      bind: `127.0.0.1:${s.port}`,
      backend: 'web',
      rules,
    });
    assert.equal(fe.status, 200, fe.text);
    await serving([port('live-1')]);
  });

  after(async () => {
    await aq.stop();
    await thalassa.stop();
    await redis.stop();
    await dns.stop();
    await s.close();
  });

  it('follows SRV records added and removed under keep-alive load: 0 failed, 0 reloads, beside a Thalassa backend', async () => {
    const before = await reloads();
    const load = startLoad(s.port, { keepAlive: 8, fresh: 2 });
    await dns.serve(zone(['live-1', 'live-2']));
    await serving([port('live-1'), port('live-2')]);
    await dns.serve(zone(['live-2']));
    await serving([port('live-2')]);
    assertNoLoss(await load.stop(), 'SRV records added and removed');
    assert.equal(await reloads(), before, 'member changes went through the runtime API');
    assert.equal(await serverOf(s.port, 'thalassa.test'), 'extra-1', 'the Thalassa backend serves beside it');
    const members = obj(await api('GET', '/backends/web'))['members'] as { port: number; version: string }[];
    assert.deepEqual(
      members.map((m) => [m.port, m.version]),
      [[port('live-2'), 'v1']],
    );
  });

  it('keeps the members while the DNS server is down, and says so', async () => {
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    await dns.stop();
    const status = await eventually(
      async () =>
        (
          obj(await api('GET', '/status'))['sources'] as Record<
            string,
            { connected: boolean; lastError: string | null }
          >
        )['dns'],
      (d) => d?.connected === false,
      10_000,
    );
    assert.match(String(status?.lastError), /_http\._tcp\.v1\.myapp\.test: E/);
    assert.deepEqual(await haproxyServingPorts(aq.statsSocket, 'web'), [port('live-2')]);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${aq.api}/#/problems`);
      await page
        .getByText(/^failing: _http\._tcp\.v1\.myapp\.test: E\w+ \(the last known 1 instance keep serving\)$/)
        .waitFor();
    } finally {
      await browser.close();
    }
    await dns.serve(zone(['live-2']));
    assertNoLoss(await load.stop(), 'the DNS server stopped');
    await eventually(
      async () => (obj(await api('GET', '/status'))['sources'] as Record<string, { connected: boolean }>)['dns'],
      (d) => d?.connected === true,
      10_000,
    );
  });

  it('switches versions and splits traffic across two SRV names without a reload', async () => {
    await dns.serve(zone(['live-2'], ['staged-1']));
    const before = await reloads();
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    assert.equal((await api('POST', '/backends/web', { version: 'v2' })).status, 200);
    await serving([port('staged-1')]);
    const split = {
      versions: [
        { version: 'v1', weight: 50 },
        { version: 'v2', weight: 50 },
      ],
    };
    assert.equal((await api('POST', '/backends/web', split)).status, 200);
    await serving([port('live-2'), port('staged-1')]);
    const seen = await eventually(
      async () => load.now().servers,
      (m) => (m.get('live-2') ?? 0) > 50 && (m.get('staged-1') ?? 0) > 50,
      10_000,
    );
    assert.ok(seen.size >= 2);
    await eventually(
      async () => load.now().ok,
      (n) => n > 600,
      10_000,
    );
    assertNoLoss(await load.stop(), 'a version switch and a split across SRV names');
    assert.equal(await reloads(), before, 'no reload');
  });
});
