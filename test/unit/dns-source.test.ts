// The DNS member source on a fake resolver and clock: members from SRV and
// A/AAAA answers, re-resolved at the TTL within bounds, kept through a
// failing server, emptied only by an authoritative "no such name", and
// followed only while the manifests name them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { activeRecords, membersOf, type AddressRecord, type SrvRecord } from '../../src/core/registry/dns-answer.js';
import { srvName, subscriptionOf } from '../../src/core/registry/subscription.js';
import { DnsSource, type DnsResolver } from '../../src/sources/dns/dns-source.js';
import { FakeClock } from '../helpers/clock.js';
import type { BackendManifest } from '../../src/core/manifests/model.js';

const err = (code: string) => Object.assign(new Error(code), { code });

/** A zone the test edits: SRV names to records, host names to A records (ttl seconds); or a failure for everything. */
function fakeResolver() {
  const zone = {
    srv: new Map<string, SrvRecord[]>(),
    a: new Map<string, AddressRecord[]>(),
    failing: undefined as string | undefined,
    queries: 0,
  };
  const resolver: DnsResolver = {
    resolveSrv: async (name) => {
      zone.queries++;
      if (zone.failing !== undefined) throw err(zone.failing);
      const r = zone.srv.get(name);
      if (r === undefined) throw err('ENOTFOUND');
      return r;
    },
    resolve4: async (name) => {
      if (zone.failing !== undefined) throw err(zone.failing);
      const a = zone.a.get(name);
      if (a === undefined) throw err('ENODATA');
      return a;
    },
    resolve6: async () => {
      throw err('ENODATA');
    },
  };
  return { zone, resolver };
}

const SERVICE = '_http._tcp.{version}.myapp.test';
const sub = (version: string) => ({ source: 'dns' as const, name: SERVICE, version });
const srv = (name: string, port: number, priority = 0): SrvRecord => ({ name, port, priority, weight: 1 });

function setup() {
  const { zone, resolver } = fakeResolver();
  const clock = new FakeClock();
  let changes = 0;
  const source = new DnsSource({
    resolver,
    bounds: { minMs: 1000, maxMs: 30_000 },
    onChange: () => changes++,
    refuse: (r) => (r.host === '127.0.0.9' ? 'that is Aqueduct itself' : undefined),
    log: pino({ level: 'silent' }),
    clock,
  });
  const ports = (version: string) => source.members(SERVICE, version).map((m) => `${m.host}:${m.port}`);
  return { zone, clock, source, ports, changes: () => changes };
}

describe('the DNS member source', () => {
  it('turns SRV records and their A records into members, and follows a TTL change within its bounds', async () => {
    const t = setup();
    t.zone.srv.set('_http._tcp.v1.myapp.test', [srv('h1.test', 9001), srv('h2.test', 9002)]);
    t.zone.a.set('h1.test', [{ address: '127.0.0.1', ttl: 5 }]);
    t.zone.a.set('h2.test', [{ address: '127.0.0.2', ttl: 5 }]);
    t.source.follow([sub('v1')]);
    await t.clock.advance(0);
    assert.deepEqual(t.ports('v1'), ['127.0.0.1:9001', '127.0.0.2:9002']);
    assert.equal(t.changes(), 1);
    t.zone.srv.set('_http._tcp.v1.myapp.test', [srv('h1.test', 9001)]);
    await t.clock.advance(4900);
    assert.equal(t.ports('v1').length, 2, 'not before the TTL');
    await t.clock.advance(200);
    assert.deepEqual(t.ports('v1'), ['127.0.0.1:9001']);
    assert.equal(t.changes(), 2);
    await t.clock.advance(5000);
    assert.equal(t.changes(), 2, 'the same answer is no change');
  });

  it('keeps the last members while the server fails, and empties only on NXDOMAIN', async () => {
    const t = setup();
    t.zone.srv.set('_http._tcp.v1.myapp.test', [srv('h1.test', 9001)]);
    t.zone.a.set('h1.test', [{ address: '127.0.0.1', ttl: 0 }]);
    t.source.follow([sub('v1')]);
    await t.clock.advance(0);
    for (const code of ['ESERVFAIL', 'ECONNREFUSED', 'ETIMEOUT', 'EREFUSED']) {
      t.zone.failing = code;
      await t.clock.advance(1000);
      assert.deepEqual(t.ports('v1'), ['127.0.0.1:9001'], code);
      assert.equal(t.source.status().connected, false);
      assert.match(String(t.source.status().lastError), new RegExp(code));
      assert.equal(t.source.status().graced, 1);
    }
    t.zone.failing = undefined;
    t.zone.srv.delete('_http._tcp.v1.myapp.test');
    await t.clock.advance(1000);
    assert.deepEqual(t.ports('v1'), [], 'the name is gone: no instances');
    assert.equal(t.source.status().connected, true);
  });

  it('resolves only what is followed, and refuses a member at our own address', async () => {
    const t = setup();
    t.zone.srv.set('_http._tcp.v1.myapp.test', [srv('h1.test', 9001), srv('me.test', 10000)]);
    t.zone.a.set('h1.test', [{ address: '127.0.0.1', ttl: 5 }]);
    t.zone.a.set('me.test', [{ address: '127.0.0.9', ttl: 5 }]);
    t.source.follow([sub('v1'), sub('v1')]);
    await t.clock.advance(0);
    assert.deepEqual(t.ports('v1'), ['127.0.0.1:9001']);
    assert.equal(t.zone.queries, 1, 'one query for one name');
    t.source.follow([]);
    const before = t.zone.queries;
    await t.clock.advance(60_000);
    assert.equal(t.zone.queries, before, 'no more queries once no backend names it');
    assert.deepEqual(t.ports('v1'), []);
  });
});

describe('DNS answers and subscriptions', () => {
  it('serves the lowest priority only, skips port 0, and puts {version} into the SRV name', () => {
    assert.deepEqual(
      activeRecords([srv('a', 1, 10), srv('b', 2, 20), srv('c', 0, 10)]).map((r) => r.name),
      ['a'],
    );
    const out = membersOf([srv('H.test', 80)], [{ target: 'h.test', v4: [{ address: '10.0.0.1', ttl: 0 }] }], {
      minMs: 1000,
      maxMs: 60_000,
    });
    assert.deepEqual(out, { kind: 'members', members: [{ host: '10.0.0.1', port: 80 }], refreshMs: 1000 });
    assert.equal(srvName(sub('1.1.0')), '_http._tcp.1.1.0.myapp.test');
    const b = { spec: { type: 'dynamic', source: 'dns', service: SERVICE, version: 'v1' } } as BackendManifest;
    assert.deepEqual(subscriptionOf(b), sub('v1'));
    const thalassa = { spec: { type: 'dynamic', name: 'myapp', version: '1' } } as BackendManifest;
    assert.deepEqual(subscriptionOf(thalassa), { source: 'registry', name: 'myapp', version: '1' });
  });
});
