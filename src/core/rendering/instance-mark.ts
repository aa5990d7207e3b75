// The mark an instance puts in every config it writes, so that it can tell
// its own HAProxy from any other on the host: a worker reports it back in
// `show info` (its `description`), through the master socket or the stats
// socket. Two instances with different config paths never share a mark.
import { sha256 } from '../hash.js';

const PREFIX = 'aqueduct-instance-';
export const INSTANCE_MARK = /^aqueduct-instance-[0-9a-f]{16}$/;

/** The mark of the instance that writes this config file (its absolute path). */
export const instanceMark = (cfgPath: string): string => `${PREFIX}${sha256(cfgPath).slice(0, 16)}`;

/**
 * The section appended to a config: a second `global`, last in the file, so
 * that a custom template's own `description` cannot hide the mark. Constant
 * per instance: two candidates differ in it never, so plans and checks see
 * only what really changed.
 */
export const markSection = (mark: string): string =>
  `\n# The instance that wrote this file (Aqueduct reads it back from each new worker's show info).\nglobal\n  description ${mark}\n`;

/** What a worker's `show info` reports of who wrote its config: pid, and the mark when there is one. */
export interface WorkerIdentity {
  pid: number;
  description: string | undefined;
}

/** Reads `show info` output (Name: value lines). */
export function parseWorkerIdentity(showInfo: string): WorkerIdentity | undefined {
  let pid: number | undefined;
  let description: string | undefined;
  for (const line of showInfo.split('\n')) {
    const i = line.indexOf(':');
    if (i === -1) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (key === 'Pid' && /^\d+$/.test(value)) pid = Number(value);
    if (key === 'description') description = value === '' ? undefined : value;
  }
  return pid === undefined ? undefined : { pid, description };
}
