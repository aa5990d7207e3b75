// Structured logs (JSON lines on stdout) through pino.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { debug: boolean; label?: string }): Logger {
  return pino({
    name: 'aqueduct',
    level: options.debug ? 'debug' : 'info',
    base: options.label === undefined ? { pid: process.pid } : { pid: process.pid, label: options.label },
  });
}
