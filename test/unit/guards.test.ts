// Who may talk to the API: the policy as a table of requests, then the app
// itself through inject() (peer addresses and headers as an attacker would
// send them, no socket needed).
import assert from 'node:assert/strict';
import { idleSystem } from '../helpers/app.js';
import { describe, it } from 'node:test';
import pino from 'pino';
import { authorized } from '../../src/http/auth.js';
import { buildApp } from '../../src/http/app.js';
import { ApiError } from '../../src/http/errors.js';
import {
  checkAccess,
  hostName,
  isLoopbackAddress,
  jsonTooDeep,
  type AccessPolicy,
  type RequestFacts,
} from '../../src/http/guards.js';
import type { ObjectService } from '../../src/http/object-service.js';

const open: AccessPolicy = { auth: {}, openWrites: false, allowedOrigins: [], allowedHosts: [] };
const request = (extra: Partial<RequestFacts>): RequestFacts => ({
  method: 'GET',
  path: '/backends/x',
  peer: '127.0.0.1',
  host: '127.0.0.1:10000',
  origin: undefined,
  fetchSite: undefined,
  contentType: undefined,
  authorization: undefined,
  upgrade: false,
  ...extra,
});
const refusal = (policy: AccessPolicy, r: Partial<RequestFacts>): string | undefined => {
  try {
    checkAccess(policy, request(r));
    return undefined;
  } catch (err) {
    return (err as ApiError).code;
  }
};

describe('access policy', () => {
  const cases: [string, AccessPolicy, Partial<RequestFacts>, string | undefined][] = [
    ['a loopback write without a token', open, { method: 'PUT' }, undefined],
    [
      'a network write without a token',
      open,
      { method: 'PUT', peer: '10.1.2.3', host: '10.0.0.1:10000' },
      'unauthorized',
    ],
    ['a loopback write HAProxy relayed', open, { method: 'PUT', relayed: true }, 'unauthorized'],
    ['a relayed write, opened on purpose', { ...open, openWrites: true }, { method: 'PUT', relayed: true }, undefined],
    [
      'a network write, opened on purpose',
      { ...open, openWrites: true },
      { method: 'PUT', peer: '10.1.2.3' },
      undefined,
    ],
    [
      'a network write with the token',
      { ...open, auth: { writeToken: 't' } },
      { method: 'PUT', peer: '10.1.2.3', authorization: 'Bearer t' },
      undefined,
    ],
    ['a network read', open, { peer: '10.1.2.3', host: '10.0.0.1:10000' }, undefined],
    [
      'a network read under a rebound DNS name',
      open,
      { peer: '10.1.2.3', host: 'evil.example:10000' },
      'forbidden_host',
    ],
    [
      'a network read under any name, with the token',
      { ...open, auth: { readToken: 'r' } },
      { peer: '10.1.2.3', host: 'lb:10000', authorization: 'Bearer r' },
      undefined,
    ],
    ['a loopback dry-run diff', open, { method: 'POST', path: '/diff', contentType: 'application/json' }, undefined],
    [
      'a dry-run diff from the network (guarded as a write)',
      open,
      { method: 'POST', path: '/diff', peer: '10.1.2.3', contentType: 'application/json' },
      'unauthorized',
    ],
    [
      'a diff sent as text/plain',
      open,
      { method: 'POST', path: '/diff', contentType: 'text/plain' },
      'unsupported_media_type',
    ],
    [
      'a cross-site no-cors diff',
      open,
      { method: 'POST', path: '/diff', origin: 'http://evil.example', contentType: 'application/json' },
      'forbidden_origin',
    ],
    [
      'a diff without the write token',
      { ...open, auth: { readToken: 'r', writeToken: 'w' } },
      { method: 'POST', path: '/diff', contentType: 'application/json', authorization: 'Bearer r' },
      'unauthorized',
    ],
    [
      'a POST elsewhere from the network',
      open,
      { method: 'POST', path: '/backends/b', peer: '10.1.2.3' },
      'unauthorized',
    ],
    ['a write when only a read token is set', { ...open, auth: { readToken: 'r' } }, { method: 'PUT' }, 'unauthorized'],
    [
      'a write with the only (read) token',
      { ...open, auth: { readToken: 'r' } },
      { method: 'PUT', authorization: 'Bearer r' },
      undefined,
    ],
    ['a rebound DNS name from loopback', open, { host: 'evil.example:10000' }, 'forbidden_host'],
    ['an allowed name from loopback', { ...open, allowedHosts: ['aq.local'] }, { host: 'aq.local:10000' }, undefined],
    ['localhost and [::1]', open, { host: '[::1]:10000', peer: '::1' }, undefined],
    [
      'a cross-site write (text/plain CSRF)',
      open,
      { method: 'POST', origin: 'http://evil.example', contentType: 'text/plain' },
      'forbidden_origin',
    ],
    [
      'a same-origin JSON write',
      open,
      { method: 'POST', origin: 'http://127.0.0.1:10000', contentType: 'application/json' },
      undefined,
    ],
    [
      'a same-origin form write',
      open,
      { method: 'POST', origin: 'http://127.0.0.1:10000', contentType: 'text/plain' },
      'unsupported_media_type',
    ],
    [
      'an allowed origin',
      { ...open, allowedOrigins: ['https://ops.example'] },
      { method: 'PUT', origin: 'https://ops.example', contentType: 'application/json' },
      undefined,
    ],
    ['a cross-site stream', open, { upgrade: true, origin: 'http://evil.example' }, 'forbidden_origin'],
    ['a cross-site write without Origin', open, { method: 'PUT', fetchSite: 'cross-site' }, 'forbidden_origin'],
    ['curl without a content type', open, { method: 'POST' }, undefined],
  ];
  for (const [what, policy, r, expected] of cases)
    it(`${expected === undefined ? 'lets on' : `refuses (${expected})`}: ${what}`, () => {
      assert.equal(refusal(policy, r), expected);
    });

  it('reads addresses and Host names', () => {
    assert.ok(isLoopbackAddress('::ffff:127.0.0.2'));
    assert.ok(!isLoopbackAddress('10.0.0.1'));
    assert.ok(!isLoopbackAddress('127.evil.example'));
    assert.equal(hostName('[::1]:80'), '::1');
    assert.equal(hostName('Example.COM:80'), 'example.com');
  });

  it('needs the read token for writes when it is the only one', () => {
    assert.ok(!authorized({ readToken: 'r' }, true, undefined));
    assert.ok(authorized({ readToken: 'r' }, true, 'Bearer r'));
  });

  it('finds deep nesting without recursion, ignoring brackets in strings', () => {
    assert.ok(jsonTooDeep('['.repeat(100_000)));
    assert.ok(!jsonTooDeep(`{"a":"${'['.repeat(1000)}"}`));
    assert.ok(!jsonTooDeep('{"a":[{"b":[1]}]}', 4));
    assert.ok(jsonTooDeep('{"a":[{"b":[1]}]}', 3));
  });
});

describe('the API refuses hostile requests with its own error shape', () => {
  const app = async () =>
    buildApp(
      {
        service: { put: async () => ({ created: false, file: 'x' }) } as unknown as ObjectService,
        system: idleSystem(),
        ledger: () => [],
        log: pino({ level: 'silent' }),
      },
      { readOnly: false, auth: {}, bodyLimit: 4 * 1024 * 1024, waitTimeoutMs: 1000, version: '1.0.0' },
    );

  it('answers 401 to a write from the network without a token', async () => {
    const r = await (
      await app()
    ).inject({ method: 'PUT', url: '/backends/x', remoteAddress: '10.9.8.7', payload: '{}' });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'unauthorized');
    assert.match(r.json().message, /--apiToken|--insecureOpenWrites/);
  });

  it('answers 403 to a cross-site form POST and to a rebound Host', async () => {
    const a = await app();
    const csrf = await a.inject({
      method: 'POST',
      url: '/backends/dyn',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      payload: '{"version":"6.6.6"}',
    });
    assert.equal(csrf.statusCode, 403);
    assert.equal(csrf.json().code, 'forbidden_origin');
    const rebound = await a.inject({ method: 'GET', url: '/frontends', headers: { host: 'evil.example:10000' } });
    assert.equal(rebound.json().code, 'forbidden_host');
  });

  it('answers 400 to a body nested 100,000 levels deep', async () => {
    const r = await (
      await app()
    ).inject({ method: 'PUT', url: '/backends/x', payload: '['.repeat(100_000) + ']'.repeat(100_000) });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'invalid_body');
    assert.match(r.json().message, /nests deeper than 64/);
  });
});
