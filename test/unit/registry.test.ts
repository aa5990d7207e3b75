// The registry's pure parts: the snapshot (events, lists, grace), event and
// registration parsing, axon frames, and the embedded registry's store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AxonDecoder, encodeAxon, MAX_FRAME } from '../../src/sources/registry/axon-frames.js';
import type { BackendManifest, Registration } from '../../src/core/manifests/model.js';
import { RegistrationStore } from '../../src/registry-server/registration-store.js';
import { memberMapFor, parseEvent, parseRegistration, RegistrySnapshot } from '../../src/core/registry/members.js';

const reg = (port: number, version = '1.0.0', lastKnown = 1): Registration => ({
  name: 'app',
  version,
  host: '127.0.0.1',
  port,
  lastKnown,
  meta: {},
  id: `/app/${version}/127.0.0.1/${port}`,
});

describe('registry snapshot', () => {
  it('changes membership on new instances and explicit offlines, not on check-ins', () => {
    const s = new RegistrySnapshot({ graceMs: 1000 });
    assert.equal(s.online(reg(1)), true);
    assert.equal(s.online(reg(1, '1.0.0', 99)), false, 'a check-in');
    assert.equal(s.registrations('app', '1.0.0')[0]?.lastKnown, 99);
    assert.equal(s.offline(reg(1).id), true);
    assert.equal(s.offline(reg(1).id), false);
  });

  it('keeps an instance missing from lists for the grace period, then drops it', () => {
    const s = new RegistrySnapshot({ graceMs: 1000 });
    s.list([reg(1), reg(2)], 0);
    assert.equal(s.list([reg(1)], 100), false, 'an empty or partial list does not remove at once');
    assert.equal(s.graced(), 1);
    assert.equal(s.list([reg(1)], 1099), false);
    assert.equal(s.list([reg(1)], 1100), true);
    assert.deepEqual(
      s.all().map((r) => r.port),
      [1],
    );
  });

  it('forgets that an instance was missing once it is listed again', () => {
    const s = new RegistrySnapshot({ graceMs: 1000 });
    s.list([reg(1)], 0);
    s.list([], 500);
    s.list([reg(1)], 900);
    assert.equal(s.list([], 1600), false, 'the grace period starts again');
    assert.equal(s.all().length, 1);
  });

  it('gives dynamic backends the instances of their exact name and version', () => {
    const s = new RegistrySnapshot({ graceMs: 0 });
    s.online(reg(2));
    s.online(reg(1));
    s.online(reg(3, '1.0.1'));
    const backend = (name: string, version: string): BackendManifest => ({
      apiVersion: 'aqueduct/v1',
      kind: 'Backend',
      metadata: { name },
      spec: {
        type: 'dynamic',
        name: 'app',
        version,
        balance: 'roundrobin',
        host: null,
        mode: 'http',
        natives: [],
        members: [],
      },
    });
    const map = memberMapFor([backend('a', '1.0.0'), backend('b', '1.0.1'), backend('c', '9')], (sub) =>
      s.registrations(sub.name, sub.version),
    );
    assert.deepEqual(map, {
      a: [
        { host: '127.0.0.1', port: 1 },
        { host: '127.0.0.1', port: 2 },
      ],
      b: [{ host: '127.0.0.1', port: 3 }],
      c: [],
    });
  });
});

describe('registry messages', () => {
  it('reads online and offline events', () => {
    const online = parseEvent([reg(1).id, 'online', JSON.stringify(reg(1))]);
    assert.deepEqual(online.event, { kind: 'online', registration: reg(1) });
    assert.deepEqual(parseEvent(['/x', 'offline']).event, { kind: 'offline', id: '/x' });
  });

  it('refuses malformed events and registrations that could inject syntax', () => {
    assert.match(parseEvent([1, 'online']).problem ?? '', /id/);
    assert.match(parseEvent(['/x', 'gone']).problem ?? '', /unknown event/);
    assert.match(parseEvent(['/x', 'online', '{bad']).problem ?? '', /not JSON/);
    for (const host of ['a b', 'h\nlisten x', "h'", '']) {
      assert.equal(parseRegistration({ ...reg(1), host }).registration, undefined, JSON.stringify(host));
    }
    assert.equal(parseRegistration({ ...reg(1), port: 70000 }).registration, undefined);
    assert.equal(parseRegistration({ ...reg(1), name: 'a/b' }).registration, undefined);
  });

  it('recomputes the id from the fields', () => {
    assert.equal(parseRegistration({ ...reg(1), id: '/other' }).registration?.id, reg(1).id);
  });
});

describe('axon frames', () => {
  it('decodes the frames Thalassa sends, however the bytes are split', () => {
    const messages = [
      ['/app/1.0.0/127.0.0.1/1', 'online', JSON.stringify(reg(1))],
      ['/app/1.0.0/127.0.0.1/1', 'offline'],
    ];
    const bytes = Buffer.concat(messages.map((m) => encodeAxon(m)));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 10 }), (cuts) => {
        const decoder = new AxonDecoder();
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const out: unknown[][] = [];
        let last = 0;
        for (const p of [...points, bytes.length]) {
          out.push(...decoder.push(bytes.subarray(last, p)));
          last = p;
        }
        assert.deepEqual(out, messages);
      }),
    );
  });

  it('refuses a frame longer than the limit instead of buffering it', () => {
    const head = Buffer.from([0, 0xff, 0xff, 0xff]);
    assert.ok(0xffffff > MAX_FRAME);
    assert.throws(() => new AxonDecoder().push(head), /over the limit/);
  });
});

describe('embedded registry store', () => {
  it('registers with Thalassa semantics, checks in, and expires by time to live', () => {
    const store = new RegistrationStore(10);
    const r = store.register({ name: 'app', version: '1', host: 'h', port: 1 }, { secondsToExpire: 2, x: 1 }, 1000);
    assert.deepEqual(r.registration?.meta, { secondsToExpire: 2, x: 1, hostname: 'h' });
    store.register({ name: 'app', version: '1', host: 'h', port: 2 }, {}, 1000);
    assert.deepEqual(store.reap(2999), []);
    assert.deepEqual(store.reap(3000), ['/app/1/h/1']);
    store.register({ name: 'app', version: '1', host: 'h', port: 2 }, {}, 5000); // a check-in renews
    assert.deepEqual(store.reap(11_000), []);
    assert.deepEqual(
      store.list('app', '1').map((x) => x.port),
      [2],
    );
    assert.match(store.register({ name: 'app', version: '1', host: 'bad host', port: 2 }, {}, 0).problem ?? '', /host/);
  });

  it('caps what a registrant may take: the count, the time to live, the size and depth of meta', () => {
    const store = new RegistrationStore(10, { maxRegistrations: 2, maxTtlSeconds: 60 });
    const reg = (port: number, body: Record<string, unknown> = {}) =>
      store.register({ name: 'app', version: '1', host: 'h', port }, body, 0);
    assert.equal(reg(1, { secondsToExpire: 1e300 }).problem, undefined);
    assert.deepEqual(store.reap(60_000), ['/app/1/h/1'], 'a time to live of 1e300 s is cut to the cap');
    reg(1);
    reg(2);
    assert.equal(reg(3).full, true);
    assert.equal(reg(2).problem, undefined, 'a check-in of a known one still passes');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 3300; i++) deep = { d: deep };
    assert.match(reg(1, deep).problem ?? '', /nests deeper than 32/);
    assert.match(reg(1, { big: 'x'.repeat(20_000) }).problem ?? '', /meta is larger than 16384/);
  });

  it('loads what it dumped, skipping entries that no longer validate', () => {
    const store = new RegistrationStore(10);
    store.register({ name: 'app', version: '1', host: 'h', port: 1 }, {}, 0);
    const copy = new RegistrationStore(10);
    assert.equal(copy.load([...store.dump(), { registration: { host: 'x y' }, expiresAt: 1 }, null]), 1);
    assert.deepEqual(copy.list(), store.list());
  });
});
