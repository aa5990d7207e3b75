// One command on an HAProxy CLI socket (stats or master). Hand-written: the
// protocol is "write a line, read until HAProxy closes", which no library
// covers better than node:net does in a few lines.
import net from 'node:net';
import { systemClock, type Clock } from '../clock.js';

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
export function sendCommand(
  socketPath: string,
  command: string,
  timeoutMs = 10_000,
  clock: Clock = systemClock,
): Promise<string> {
  return exchange(socketPath, command, { timeoutMs, halfClose: true, clock });
}

/**
 * Writes `text` and reads until HAProxy closes. `halfClose` ends our side at
 * once (one command); a session ended by its own `quit` must not, since
 * HAProxy stops reading commands once it sees the end of its input.
 */
function exchange(
  socketPath: string,
  command: string,
  { timeoutMs, halfClose, clock }: { timeoutMs: number; halfClose: boolean; clock: Clock },
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Decoded as they arrive, so an answer of megabytes (`show stat` at 100k
    // servers) never needs one native buffer of its size: such buffers are
    // what glibc's allocator keeps after they are freed.
    const chunks: string[] = [];
    const socket = net.createConnection(socketPath);
    socket.setEncoding('utf8');
    const cancel = clock.after(timeoutMs, () => {
      socket.destroy();
      reject(
        new SocketError(
          socketPath,
          `no answer to '${command.split(' ')[0] ?? ''}' within ${timeoutMs} ms`,
          'ETIMEDOUT',
        ),
      );
    });
    socket.once('connect', () => (halfClose ? socket.end(`${command}\n`) : socket.write(`${command}\n`)));
    socket.on('data', (d: string) => chunks.push(d));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      cancel();
      reject(new SocketError(socketPath, err.message, err.code));
    });
    socket.once('close', () => {
      cancel();
      resolve(chunks.join(''));
    });
  });
}

/** The prompt HAProxy writes before every answer in interactive mode. */
const PROMPT = '\n> ';

/**
 * Several commands over one connection, in HAProxy's interactive mode
 * (`prompt`): written at once, answered in order, each answer preceded by
 * the prompt. Resolves to one answer per command, so each can be checked on
 * its own; a thousand commands cost one connection instead of a thousand.
 */
export async function sendCommands(
  socketPath: string,
  commands: readonly string[],
  timeoutMs = 10_000,
  clock: Clock = systemClock,
): Promise<string[]> {
  if (commands.length === 0) return [];
  if (commands.some((c) => c.includes('\n'))) throw new SocketError(socketPath, 'a command holds a line break');
  const session = ['prompt', ...commands, 'quit'].join('\n');
  const raw = await exchange(socketPath, session, { timeoutMs, halfClose: false, clock });
  const answers = raw.split(PROMPT).slice(1, commands.length + 1);
  if (answers.length < commands.length)
    throw new SocketError(
      socketPath,
      `${commands.length - answers.length} of ${commands.length} commands went unanswered`,
    );
  return answers.map((a) => (a.endsWith('\n') ? a.slice(0, -1) : a));
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
