// One command on an HAProxy CLI socket (stats or master). Hand-written: the
// protocol is "write a line, read until HAProxy closes", which no library
// covers better than node:net does in a few lines.
import net from 'node:net';

export class SocketError extends Error {
  constructor(
    readonly socketPath: string,
    message: string,
    readonly code?: string,
  ) {
    super(`${socketPath}: ${message}`);
    this.name = 'SocketError';
  }
}

/** Sends one command and resolves to everything HAProxy answered. */
export function sendCommand(socketPath: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new SocketError(
          socketPath,
          `no answer to '${command.split(' ')[0] ?? ''}' within ${timeoutMs} ms`,
          'ETIMEDOUT',
        ),
      );
    }, timeoutMs);
    socket.once('connect', () => socket.end(`${command}\n`));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new SocketError(socketPath, err.message, err.code));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Whether something answers on the socket. */
export async function socketAlive(socketPath: string, probe = 'help', timeoutMs = 2000): Promise<boolean> {
  try {
    await sendCommand(socketPath, probe, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
