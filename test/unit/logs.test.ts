// What a person reads: HAProxy's lines at their own level, access-log lines
// as requests, and the one "ready" line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHaproxyLine } from '../../src/core/haproxy-output/runtime-output.js';
import { resolveFlags } from '../helpers/run-config.js';
import { readyLine } from '../../src/observe/ready-line.js';

describe("HAProxy's lines", () => {
  const cases: [string, string, string][] = [
    ['[ALERT]    (12) : config : parsing [/x.cfg:3] : unknown keyword', 'message', 'error'],
    ['[WARNING]  (12) : Server live/a is DOWN, reason: Layer4 connection problem', 'message', 'warn'],
    ['[WARNING]  (12) : Server live/a is UP, reason: Layer4 check passed', 'message', 'info'],
    ['[NOTICE]   (12) : New worker (13) forked', 'message', 'info'],
    ['[ALERT]    (12) : Current worker (13) exited with code 0 (Exit)', 'message', 'info'],
    ['[ALERT]    (12) : Current worker (13) exited with code 139 (Segmentation fault)', 'message', 'error'],
    ['[WARNING]  (12) : Exiting Master process...', 'message', 'info'],
    ['[WARNING]  (12) : All workers exited. Exiting... (0)', 'message', 'info'],
    ['[WARNING]  (13) : Proxy myapp stopped (cumulated conns: FE: 3, BE: 0).', 'message', 'debug'],
    ['[WARNING]  (13) : Stopping frontend myapp in 0 ms.', 'message', 'debug'],
    ["[NOTICE]   (13) : CLI : 'server b/x' : New server registered.", 'message', 'debug'],
    ['{"type":"http","frontend":"f","backend":"b","server":"s","method":"GET","path":"/a","status":200}', 'access', ''],
    ['{"type":"http","path":"/a\\z"broken', 'message', 'info'],
  ];
  for (const [line, kind, level] of cases)
    it(`${kind} ${level}: ${line.slice(0, 60)}`, () => {
      const c = classifyHaproxyLine(line);
      assert.equal(c.kind, kind);
      if (c.kind === 'message') assert.equal(c.level, level);
      else assert.equal(c.summary, 'GET /a 200 (f → b/s)');
    });
});

describe('the ready line', () => {
  it('says what is served where, shortened past five frontends', () => {
    assert.equal(
      readyLine([{ name: 'myapp', binds: ['127.0.0.1:8080'] }], { api: 'http://127.0.0.1:10000' }),
      'ready: 1 frontend (myapp on 127.0.0.1:8080); API on http://127.0.0.1:10000, dashboard on http://127.0.0.1:10000/',
    );
    const many = Array.from({ length: 7 }, (_, i) => ({ name: `f${i}`, binds: [`:${8000 + i}`] }));
    const line = readyLine(many, { api: 'http://h:1', haproxyMetrics: '127.0.0.1:8405' });
    assert.match(
      line,
      /^ready: 7 frontends \(f0 on :8000; .*f4 on :8004; 2 more\); API on http:\/\/h:1, dashboard on http:\/\/h:1\/; HAProxy/,
    );
    assert.equal(
      readyLine([], { api: 'http://h:1' }),
      'ready: no frontends yet; API on http://h:1, dashboard on http://h:1/',
    );
  });
});

describe('log options', () => {
  const resolve = resolveFlags;

  it('--debug means --logLevel debug unless a level is given', () => {
    assert.equal(resolve({}).logLevel, 'info');
    assert.equal(resolve({ debug: true }).logLevel, 'debug');
    assert.equal(resolve({ debug: true, logLevel: 'warn' }).logLevel, 'warn');
  });

  it('takes a syslog address for the access log and refuses anything that could inject config', () => {
    assert.equal(resolve({ accessLog: 'udp@[::1]:514' }).accessLog, 'udp@[::1]:514');
    assert.throws(() => resolve({ accessLog: '127.0.0.1:514 local0\n  lua-load /x' }), /--accessLog/);
  });
});
