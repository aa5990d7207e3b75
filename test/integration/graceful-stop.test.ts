// Stopping Aqueduct stops a managed HAProxy softly: a request in flight
// finishes with its answer, whether Aqueduct gets SIGTERM (an orchestrator)
// or its terminal's process group gets SIGINT (Ctrl-C), which must not
// reach HAProxy directly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { apiUp, startAqueductProcess } from '../helpers/aqueduct.js';
import { apiClient } from '../helpers/api.js';
import { serveMyapp } from '../helpers/edge.js';
import { getJson } from '../helpers/haproxy.js';
import { scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

async function slowRequestAcrossStop(stop: (pid: number) => void): Promise<void> {
  const s = await scenario();
  const slow = s.echoes.get('live-1');
  slow?.behave({ slowMs: 2500 });
  const aq = await startAqueductProcess({ detached: true });
  try {
    await apiUp(aq);
    await serveMyapp(apiClient(aq.api), s, { type: 'static', members: [{ host: '127.0.0.1', port: slow?.port ?? 0 }] });
    const before = slow?.received() ?? 0;
    const answer = getJson(s.port, '/slow').catch((err: unknown) => ({
      status: 0,
      body: { error: String(err) } as Record<string, unknown>,
    }));
    await eventually(
      async () => slow?.received() ?? 0,
      (n) => n > before,
    );
    stop(aq.child.pid ?? 0);
    const res = await answer;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body['server'], 'live-1');
    const [code] =
      aq.child.exitCode !== null ? [aq.child.exitCode] : ((await once(aq.child, 'exit')) as [number | null]);
    assert.equal(code, 0, 'Aqueduct exits 0');
    assert.ok(
      !aq.logs.some((l) => (l as { level?: number }).level === 40 || (l as { level?: number }).level === 50),
      `no warning or error on the way out: ${JSON.stringify(aq.logs.filter((l) => ((l as { level?: number }).level ?? 0) >= 40))}`,
    );
  } finally {
    await aq.stop(); // a no-op when the test stopped it; otherwise HAProxy goes with it
    await s.close();
  }
}

describe('graceful stop', () => {
  it('lets a 2.5 s request in flight finish with its 200 when Aqueduct gets SIGTERM', async () => {
    await slowRequestAcrossStop((pid) => process.kill(pid, 'SIGTERM'));
  });

  it("does the same on SIGINT to Aqueduct's process group, as Ctrl-C in a terminal sends", async () => {
    await slowRequestAcrossStop((pid) => process.kill(-pid, 'SIGINT'));
  });

  it('stops at once with a dashboard stream open whose client never answers the close', async () => {
    const aq = await startAqueductProcess();
    await apiUp(aq);
    const stream = await silentStreamClient(new URL(aq.api));
    try {
      const t0 = Date.now();
      assert.equal(await aq.stop(), 0);
      assert.ok(Date.now() - t0 < 5000, `the stop took ${Date.now() - t0} ms`);
    } finally {
      stream.destroy();
    }
  });
});

/** A /stream client that completes the WebSocket handshake, then reads nothing and answers nothing. */
async function silentStreamClient(api: URL): Promise<net.Socket> {
  const socket = net.connect(Number(api.port), api.hostname);
  await once(socket, 'connect');
  socket.write(
    [
      'GET /stream HTTP/1.1',
      `Host: ${api.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Protocol: aqueduct',
      '',
      '',
    ].join('\r\n'),
  );
  const [head] = (await once(socket, 'data')) as [Buffer];
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
  socket.pause();
  return socket;
}
