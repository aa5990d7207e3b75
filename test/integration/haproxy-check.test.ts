import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkConfigText, featuresOf, haproxyVersion, parseCheckOutput } from '../../src/haproxy/check.js';
import { HAPROXY_BIN } from '../helpers/haproxy.js';

describe('haproxy -c', () => {
  it('accepts a valid config and reports the line and message of a bad one', async () => {
    const good =
      'defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:1\n  default_backend b\nbackend b\n  server s 127.0.0.1:2\n';
    assert.equal((await checkConfigText(HAPROXY_BIN, good)).ok, true);
    const bad = good.replace('  server s 127.0.0.1:2', '  server s 127.0.0.1:2\n  frobnicate yes');
    const result = await checkConfigText(HAPROXY_BIN, bad);
    assert.equal(result.ok, false);
    const first = result.errors[0];
    assert.equal(first?.line, 11);
    assert.match(first?.message ?? '', /frobnicate/);
  });

  it('parses ALERT lines with and without a config line', () => {
    const out = [
      '[NOTICE]   (1) : haproxy version is 2.6.12',
      "[ALERT]    (5033) : config : parsing [/x/h.cfg:8] : error detected while parsing ACL 'a1' : bad.",
      '[ALERT]    (5033) : config : Fatal errors found in configuration.',
    ].join('\n');
    assert.deepEqual(parseCheckOutput(out), [
      { line: 8, message: "error detected while parsing ACL 'a1' : bad." },
      { message: 'Fatal errors found in configuration.' },
    ]);
  });

  it('reads the version and the features it implies', async () => {
    const version = await haproxyVersion(HAPROXY_BIN);
    assert.ok(version[0] >= 2);
    assert.deepEqual(featuresOf([2, 4, 22]), { idleCloseOnResponse: false });
    assert.deepEqual(featuresOf([2, 6, 0]), { idleCloseOnResponse: true });
    assert.deepEqual(featuresOf([3, 0, 1]), { idleCloseOnResponse: true });
  });

  it('says clearly when the binary is missing', async () => {
    await assert.rejects(haproxyVersion('/nonexistent/haproxy'), /haproxy binary not found: \/nonexistent\/haproxy/);
  });
});
