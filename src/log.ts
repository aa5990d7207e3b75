// Logs through pino: JSON lines for machines, or pino-pretty's lines for
// people (the default on a terminal).
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  level: string;
  format: 'json' | 'pretty';
  label?: string;
}

export function createLogger(options: LogOptions): Logger {
  const settings = {
    name: 'aqueduct',
    level: options.level,
    base: options.label === undefined ? { pid: process.pid } : { pid: process.pid, label: options.label },
  };
  if (options.format === 'json') return pino(settings);
  // Synchronous, in this thread: a line is out before the process exits, as with JSON.
  const stream = pretty({
    colorize: process.stdout.isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    sync: true,
  });
  return pino(settings, stream);
}

/** The format when none is asked for: pretty for a person at a terminal, JSON for everything else. */
export const defaultLogFormat = (): 'json' | 'pretty' => (process.stdout.isTTY ? 'pretty' : 'json');
