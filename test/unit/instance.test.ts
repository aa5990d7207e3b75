// What an instance owns: its paths derive from its config path, its mark is
// in every config it renders, and a worker's show info tells whose it is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instancePaths } from '../../src/config.js';
import { resolveFlags } from '../helpers/run-config.js';
import { commandFailure } from '../../src/haproxy/process.js';
import { instanceMark, parseWorkerIdentity } from '../../src/core/rendering/instance-mark.js';
import { checkRenderOptions, renderConfig } from '../../src/core/rendering/render.js';
import { DEFAULT_TEMPLATE } from '../helpers/render.js';

describe('instance paths and mark', () => {
  it('derives the state directory and the sockets from the config path, so two configs never share them', () => {
    const a = instancePaths('/etc/haproxy/haproxy.cfg', {});
    assert.deepEqual(a, {
      stateDir: '/etc/haproxy/aqueduct-state',
      haproxySocketPath: '/etc/haproxy/aqueduct-state/haproxy.stats.sock',
      haproxyMasterSocket: '/etc/haproxy/aqueduct-state/haproxy.master.sock',
      haproxyPidPath: '/etc/haproxy/aqueduct-state/haproxy.pid',
    });
    const b = instancePaths('/etc/haproxy/edge.cfg', {});
    assert.equal(b.stateDir, '/etc/haproxy/edge.aqueduct-state');
    assert.equal(instancePaths('/x/h.cfg', { haproxyMasterSocket: '/run/m.sock' }).haproxyMasterSocket, '/run/m.sock');
  });

  it('refuses a derived socket path too long for a unix socket, naming the flag to give', () => {
    assert.throws(
      () => instancePaths(`/${'d'.repeat(90)}/haproxy.cfg`, {}),
      /--haproxySocketPath .*at most 107 bytes \(it derives from --stateDir; give --haproxySocketPath/,
    );
  });

  it('puts the mark last in the rendered config, where a template cannot hide it', () => {
    const mark = instanceMark('/etc/haproxy/haproxy.cfg');
    assert.match(mark, /^aqueduct-instance-[0-9a-f]{16}$/);
    assert.notEqual(mark, instanceMark('/etc/haproxy/edge.cfg'));
    const text = renderConfig(
      DEFAULT_TEMPLATE,
      { frontends: [], backends: [] },
      { statsSocketPath: '/s', instanceMark: mark },
    );
    assert.ok(text.endsWith(`global\n  description ${mark}\n`));
    assert.deepEqual(
      checkRenderOptions({ statsSocketPath: '/s', instanceMark: 'x\n  program' }).map((i) => i.path),
      ['instanceMark'],
    );
  });

  it("reads a worker's pid and description from show info", () => {
    const out =
      'Name: HAProxy\nVersion: 2.6.12\nPid: 4242\nnode: vm\ndescription: aqueduct-instance-0123456789abcdef\n';
    assert.deepEqual(parseWorkerIdentity(out), { pid: 4242, description: 'aqueduct-instance-0123456789abcdef' });
    assert.deepEqual(parseWorkerIdentity('Pid: 7\ndescription: \n'), { pid: 7, description: undefined });
    assert.equal(parseWorkerIdentity('Unknown command'), undefined);
  });
});

describe("the original's pidfile flags", () => {
  const resolve = resolveFlags;

  it('--haproxyPidPath or --sudo select pidfile mode, as thalassa-aqueduct ran its daemon', () => {
    assert.equal(resolve({}).haproxyMode, 'managed');
    assert.equal(resolve({ haproxyPidPath: '/var/run/haproxy.pid' }).haproxyMode, 'pidfile');
    assert.equal(resolve({ sudo: true }).haproxyMode, 'pidfile');
    assert.equal(resolve({ haproxyMasterSocket: '/run/m.sock' }).haproxyMode, 'external');
    assert.equal(resolve({ haproxyMode: 'pidfile', sudo: true }).haproxyMode, 'pidfile');
  });

  it('refuses them beside another mode, naming the flag to add or drop, instead of ignoring them', () => {
    assert.throws(
      () => resolve({ haproxyMode: 'managed', sudo: true }),
      /--sudo applies only to --haproxyMode pidfile .*not managed: add --haproxyMode pidfile, or drop --sudo/,
    );
    assert.throws(
      () => resolve({ haproxyMasterSocket: '/run/m.sock', haproxyPidPath: '/p' }),
      /--haproxyPidPath applies only to .*not external \(--haproxyMasterSocket means external\)/,
    );
  });

  it("words a spawned command's failure with its stderr and exit status, or why it did not run", () => {
    const missing = Object.assign(new Error('spawn sudo ENOENT'), { code: 'ENOENT', stderr: '' });
    assert.equal(commandFailure('sudo', ['-n', 'haproxy'], missing), 'sudo -n haproxy failed (sudo not found on PATH)');
    const refused = Object.assign(new Error('Command failed'), { code: 1, stderr: 'sudo: a password is required\n' });
    assert.equal(
      commandFailure('sudo', ['-n', 'haproxy'], refused),
      'sudo -n haproxy failed (exit status 1): sudo: a password is required',
    );
  });
});
