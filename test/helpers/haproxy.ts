// Starting real processes for tests: haproxy, echo servers, free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

/** The HAProxy the tests run: AQUEDUCT_HAPROXY_BIN (which Aqueduct's --haproxyBin reads too) selects another build. */
export const HAPROXY_BIN = process.env['AQUEDUCT_HAPROXY_BIN'] ?? process.env['HAPROXY_BIN'] ?? 'haproxy';

/**
 * A port that was free a moment ago on 127.0.0.1, and that nothing else is
 * handed: below the kernel's ephemeral range (32768-60999 here), so no
 * outgoing connection can take it as its local port before the test binds
 * it (one did: HAProxy's bind failed with "Address already in use"), and
 * never the same one twice in a test process. 23000-31999 also stays clear
 * of the member ports the fixtures name (15433, 19001-19004, 20000-20009).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * PORT_COUNT);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${FIRST_PORT}-${FIRST_PORT + PORT_COUNT - 1} after 100 tries`);
}

const FIRST_PORT = 23_000;
const PORT_COUNT = 9_000;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface EchoServer {
  port: number;
  /** Changes how it answers from now on. */
  behave(b: EchoBehaviour): void;
  /** Requests received so far (health checks aside). */
  received(): number;
  close(): Promise<void>;
}

export interface EchoBehaviour {
  /** Every n-th request (health checks aside) is answered 500. */
  failEvery?: number;
  /** Status of /health (200 unless set). */
  healthStatus?: number;
  /** Requests to /slow wait this long before the answer. */
  slowMs?: number;
}

/** An HTTP server answering {server, host, path} as JSON, like examples/echo-server.mjs. */
export async function startEchoServer(name: string, port = 0, initial: EchoBehaviour = {}): Promise<EchoServer> {
  let behaviour = initial;
  let served = 0;
  let received = 0;
  const server = http.createServer((req, res) => {
    const health = req.url === '/health';
    if (!health) received++;
    const failing = !health && behaviour.failEvery !== undefined && ++served % behaviour.failEvery === 0;
    const status = health ? (behaviour.healthStatus ?? 200) : failing ? 500 : 200;
    const body = JSON.stringify({ server: name, host: req.headers.host ?? null, path: req.url });
    const answer = () => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url === '/slow') setTimeout(answer, behaviour.slowMs ?? 2500);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as net.AddressInfo).port;
  return {
    port: actual,
    behave: (b) => {
      behaviour = b;
    },
    received: () => received,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/** Resolves once 127.0.0.1:port accepts a connection, polling every intervalMs. */
export async function waitForPort(port: number, timeoutMs = 10_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface HaproxyProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -W -db -f cfg` in the foreground and waits for the given port. */
export async function startHaproxy(cfgFile: string, waitPort: number): Promise<HaproxyProcess> {
  const child = spawn(HAPROXY_BIN, ['-W', '-db', '-f', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`haproxy exited with ${String(code)}: ${output}`);
  });
  await Promise.race([waitForPort(waitPort), exited]);
  exited.catch(() => undefined);
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** GET through HAProxy with a Host header; resolves to the echo server's JSON. */
export async function getJson(
  port: number,
  path: string,
  host = 'localhost',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(data) as Record<string, unknown>;
        } catch {
          body = { raw: data };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}
