// The runtime API on the stats socket (level admin): server membership and
// weights without a reload, and the state HAProxy reports.
import { parseServersState, parseStatCsv, type ServerState } from '../core/haproxy-output.js';
import type { RuntimeOp } from '../core/plan.js';
import { sendCommand } from './socket-client.js';

export class RuntimeCommandError extends Error {
  constructor(
    readonly command: string,
    readonly answer: string,
  ) {
    super(`HAProxy refused '${command}': ${answer.trim()}`);
    this.name = 'RuntimeCommandError';
  }
}

export interface RuntimeApi {
  /** Runs a command whose success HAProxy reports as an empty answer or one of `okAnswers`. */
  command(command: string, okAnswers?: RegExp): Promise<string>;
  serversState(): Promise<ServerState[]>;
  /** Current sessions of one server. */
  serverSessions(backend: string, server: string): Promise<number>;
}

export function runtimeApi(socketPath: string, timeoutMs = 10_000): RuntimeApi {
  const command = async (cmd: string, okAnswers?: RegExp): Promise<string> => {
    const answer = await sendCommand(socketPath, cmd, timeoutMs);
    const text = answer.trim();
    if (text !== '' && !(okAnswers?.test(text) ?? false)) throw new RuntimeCommandError(cmd, answer);
    return answer;
  };
  return {
    command,
    serversState: async () => parseServersState(await sendCommand(socketPath, 'show servers state', timeoutMs)),
    serverSessions: async (backend, server) => {
      const rows = parseStatCsv(await sendCommand(socketPath, `show stat ${backend} 4 -1`, timeoutMs));
      const row = rows.find((r) => r['svname'] === server);
      return row === undefined ? 0 : Number(row['scur'] ?? 0);
    },
  };
}

/** The commands for one planned op, in order. Removal is only its first step (drain); see ServerRemover. */
export function commandsFor(op: RuntimeOp): { command: string; ok?: RegExp }[] {
  const id = `${op.backend}/${op.server}`;
  switch (op.op) {
    case 'add': {
      const cmds: { command: string; ok?: RegExp }[] = [
        { command: `add server ${id} ${op.address} ${op.args.join(' ')}`.trim(), ok: /^New server registered\.?$/ },
      ];
      if (op.args.includes('check')) cmds.push({ command: `enable health ${id}` });
      cmds.push({ command: `enable server ${id}` });
      return cmds;
    }
    case 'set-weight':
      return [{ command: `set weight ${id} ${op.weight}` }];
    case 'ready':
      return [{ command: `set server ${id} state ready` }];
    case 'remove':
      return [{ command: `set server ${id} state drain` }];
  }
}

/** The same API, telling `count` whether each command succeeded (for metrics). */
export function countingRuntime(api: RuntimeApi, count: (ok: boolean) => void): RuntimeApi {
  return {
    ...api,
    command: async (cmd, okAnswers) => {
      try {
        const answer = await api.command(cmd, okAnswers);
        count(true);
        return answer;
      } catch (err) {
        count(false);
        throw err;
      }
    },
  };
}
