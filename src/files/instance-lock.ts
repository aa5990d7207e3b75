// One Aqueduct per state directory. The lock is a unix socket the running
// instance listens on, not a pid file: a process that died leaves a socket
// nobody answers (ECONNREFUSED), so a stale lock is told from a live one
// without guessing from pids that the kernel may have handed out again.
import net from 'node:net';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { AqueductError } from '../core/issues.js';

export interface InstanceLock {
  readonly path: string;
  release(): Promise<void>;
}

const listen = (server: net.Server, where: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });

const answers = (where: string): Promise<boolean> =>
  new Promise((resolve) => {
    const c = net.createConnection(where);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

/** Takes the state directory's lock, or fails naming the directory another live instance holds. */
export async function lockStateDir(stateDir: string): Promise<InstanceLock> {
  const where = path.join(stateDir, 'aqueduct.lock');
  const server = net.createServer((c) => c.end());
  try {
    await listen(server, where);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await answers(where))
      throw new AqueductError(
        'startup',
        `--stateDir ${stateDir} is in use by another running Aqueduct (it holds ${where}); give each instance its own --haproxyCfgPath or --stateDir`,
      );
    await rm(where, { force: true }); // left by an instance that died
    await listen(server, where);
  }
  server.unref();
  return {
    path: where,
    release: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
