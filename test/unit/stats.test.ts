// HAProxy stats as stat objects, their differences, and the stream's bounded sending.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffStats, statsFromCsv } from '../../src/core/haproxy-output/stats.js';
import { sendBounded, SLOW_CLIENT_CLOSE } from '../../src/http/routes/stream.js';

const HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,';
const row = (px: string, sv: string, status: string, scur: number, lastchg: number, check = '', duration = '') =>
  `${px},${sv},0,0,${scur},5,100,42,10,20,0,0,1,2,3,0,0,${status},1,1,0,0,0,${lastchg},0,,1,2,1,,0,,2,0,,0,${check},200,${duration},0,7,0,1,0,0,,3,4,9,`;

describe('stats', () => {
  const csv = (status: string, lastchg: number, duration: string) =>
    [
      HEADER,
      row('myapp', 'FRONTEND', 'OPEN', 1, 0),
      row('stats', 'FRONTEND', 'OPEN', 0, 0),
      row('live', 'live_1', status, 0, lastchg, 'L7OK', duration),
      row('live', 'BACKEND', 'UP', 0, lastchg),
      row('GLOBAL', 'FRONTEND', 'OPEN', 0, 0),
      row('<HTTPCLIENT>', 'BACKEND', 'UP', 0, 0),
    ].join('\n');

  it("gives the original's ids and shapes, without HAProxy's own proxies", () => {
    const stats = statsFromCsv(csv('UP', 5, '1'));
    assert.deepEqual(
      stats.map((s) => [s.id, s.type, s.key]),
      [
        ['stat/frontend/myapp', 'frontend', 'myapp'],
        ['stat/backend/live/live_1', 'backendMember', 'live_1'],
        ['stat/backend/live', 'backend', 'live'],
      ],
    );
    const server = stats[1];
    assert.equal(server?.backend, 'live');
    assert.deepEqual(server?.connections, { current: 0, max: 5, limit: 100, total: 42 });
    assert.deepEqual(server?.errors, { request: 1, connection: 2, response: 3 });
    assert.deepEqual(server?.check, { status: 'L7OK', code: 200, durationMs: 1 });
    assert.equal(server?.rate, 3, 'HTTP request rate where HAProxy gives one');
  });

  it('reports only real changes: not the seconds since the last change, not check durations', () => {
    const first = diffStats(new Map(), statsFromCsv(csv('UP', 5, '1'))).signatures;
    const same = diffStats(first, statsFromCsv(csv('UP', 9, '3')));
    assert.deepEqual([same.changed, same.removed], [[], []]);
    const down = diffStats(first, statsFromCsv(csv('DOWN', 0, '3')));
    assert.deepEqual(
      down.changed.map((s) => [s.id, s.status]),
      [['stat/backend/live/live_1', 'DOWN']],
    );
    const gone = diffStats(first, statsFromCsv([HEADER, row('myapp', 'FRONTEND', 'OPEN', 1, 0)].join('\n')));
    assert.deepEqual(gone.removed.sort(), ['stat/backend/live', 'stat/backend/live/live_1']);
  });
});

describe('bounded stream sending', () => {
  it('sends while the client keeps up and drops it once too much waits', () => {
    const sent: string[] = [];
    const closed: number[] = [];
    const socket = {
      bufferedAmount: 0,
      send: (d: string) => sent.push(d),
      close: (code: number) => closed.push(code),
    };
    assert.equal(sendBounded(socket, { a: 1 }, 100), true);
    socket.bufferedAmount = 101;
    assert.equal(sendBounded(socket, { a: 2 }, 100), false);
    assert.deepEqual(sent, ['{"a":1}']);
    assert.deepEqual(closed, [SLOW_CLIENT_CLOSE]);
  });
});
