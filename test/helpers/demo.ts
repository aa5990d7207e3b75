// `npm start` (scripts/demo.sh) as a newcomer runs it: in its own process
// group, as a terminal does, on the README's fixed ports (8080, 8081,
// 9000-9005, 10000); stopped with Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT } from './cli.js';
import { getJson } from './haproxy.js';
import { eventually } from './wait.js';

/** "200 v1.0.0:9001", or "down": who answered a request to the demo's HAProxy. */
export const served = (host?: string): Promise<string> =>
  getJson(8080, '/', host).then(
    (r) => `${r.status} ${String(r.body['server'])}`,
    () => 'down',
  );

/** Starts the demo and waits for HAProxy's first answer. */
export async function startDemo(): Promise<ChildProcess> {
  const demo = spawn('bash', [path.join(ROOT, 'scripts', 'demo.sh')], { cwd: ROOT, stdio: 'ignore', detached: true });
  await eventually(
    () => served(),
    (x) => x !== 'down',
    30_000,
  );
  return demo;
}

/** Ctrl-C, then waits until nothing answers any more. */
export async function stopDemo(demo: ChildProcess): Promise<void> {
  process.kill(-(demo.pid ?? 0), 'SIGINT');
  if (demo.exitCode === null) await once(demo, 'exit');
  await eventually(
    () => served(),
    (x) => x === 'down',
    15_000,
  );
}
