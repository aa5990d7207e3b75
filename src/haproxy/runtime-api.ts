// The runtime API on the stats socket (level admin): server membership and
// weights without a reload, and the state HAProxy reports.
import { parseServersState, parseStatCsv, type ServerState } from '../core/haproxy-output/runtime-output.js';
import type { MapOp, ServerOp } from '../core/planning/plan.js';
import {
  addMapAt,
  addServer,
  commitMap,
  enableHealth,
  enableServer,
  serverId,
  setServerState,
  setWeight,
  showServersState,
  showStat,
  type RuntimeCommand,
} from './commands.js';
import { sendCommand, sendCommands } from './socket-client.js';

export class RuntimeCommandError extends Error {
  constructor(
    readonly command: string,
    readonly answer: string,
  ) {
    super(`HAProxy refused '${command}': ${answer.trim()}`);
    this.name = 'RuntimeCommandError';
  }
}

/** Commands per connection: a few hundred KB of text, answered well within the timeout. */
const BATCH = 1000;

export interface RuntimeApi {
  /** Runs one command; throws RuntimeCommandError when HAProxy refuses it. */
  command(command: string, okAnswers?: RegExp): Promise<string>;
  /** Runs commands in order over as few connections as possible; one answer each (never throws on a refusal: see `refusal`). */
  commands(list: readonly RuntimeCommand[]): Promise<string[]>;
  serversState(): Promise<ServerState[]>;
  /** Current sessions of every server, by "backend/server". */
  sessions(): Promise<Map<string, number>>;
  /** `show stat` as records, one per frontend, backend and server, with the given columns (default all). */
  stats(columns?: readonly string[]): Promise<Record<string, string>[]>;
}

/** Runs one command of commands.ts; throws RuntimeCommandError when HAProxy refuses it. */
export const run = (api: Pick<RuntimeApi, 'command'>, c: RuntimeCommand): Promise<string> =>
  api.command(c.command, c.ok);

/** Whether HAProxy's answer means the command succeeded. */
export const accepted = (c: RuntimeCommand, answer: string): boolean => {
  const text = answer.trim();
  return text === '' || (c.ok?.test(text) ?? false);
};

/** The first command HAProxy refused, as an error; undefined when all succeeded. */
export function refusal(list: readonly RuntimeCommand[], answers: readonly string[]): RuntimeCommandError | undefined {
  const i = list.findIndex((c, n) => !accepted(c, answers[n] ?? ''));
  return i === -1 ? undefined : new RuntimeCommandError(list[i]?.command ?? '', answers[i] ?? '');
}

const SESSION_COLUMNS = ['pxname', 'svname', 'scur'];

export function runtimeApi(socketPath: string, timeoutMs = 10_000): RuntimeApi {
  const command = async (cmd: string, okAnswers?: RegExp): Promise<string> => {
    const answer = await sendCommand(socketPath, cmd, timeoutMs);
    if (!accepted({ command: cmd, ...(okAnswers && { ok: okAnswers }) }, answer))
      throw new RuntimeCommandError(cmd, answer);
    return answer;
  };
  return {
    command,
    commands: async (list) => {
      const answers: string[] = [];
      for (let i = 0; i < list.length; i += BATCH)
        answers.push(
          ...(await sendCommands(
            socketPath,
            list.slice(i, i + BATCH).map((c) => c.command),
            timeoutMs,
          )),
        );
      return answers;
    },
    serversState: async () => parseServersState(await sendCommand(socketPath, showServersState().command, timeoutMs)),
    stats: async (columns) => parseStatCsv(await sendCommand(socketPath, showStat().command, timeoutMs), columns),
    sessions: async () => {
      const servers = await sendCommand(socketPath, showStat('servers').command, timeoutMs);
      const rows = parseStatCsv(servers, SESSION_COLUMNS);
      return new Map(rows.map((r) => [`${r['pxname'] ?? ''}/${r['svname'] ?? ''}`, Number(r['scur'] ?? 0)]));
    },
  };
}

/** A routing map's new entries into the version `prepare map` made, and the commit that switches to it. */
export const mapCommands = (op: MapOp, version: number): { fill: RuntimeCommand[]; commit: RuntimeCommand } => ({
  fill: op.entries.map(([key, value]) => addMapAt(version, op.file, key, value)),
  commit: commitMap(version, op.file),
});

/** The commands for one planned server op, in order. Removal is only its first step (drain); see RuntimeApplier. */
export function commandsFor(op: ServerOp): RuntimeCommand[] {
  const id = serverId(op.backend, op.server);
  switch (op.op) {
    case 'add':
      return [
        addServer(id, op.address, op.args),
        ...(op.args.includes('check') ? [enableHealth(id)] : []),
        enableServer(id),
      ];
    case 'set-weight':
      return [setWeight(id, op.weight)];
    case 'ready':
      return [setServerState(id, 'ready')];
    case 'remove':
      return [setServerState(id, 'drain')];
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
    commands: async (list) => {
      const answers = await api.commands(list);
      list.forEach((c, i) => count(accepted(c, answers[i] ?? '')));
      return answers;
    },
  };
}
