// What the API's access settings mean, said once at startup: the unsafe
// powers someone switched on, and how writes are reached otherwise.
import type { Logger } from 'pino';
import type { RunConfig } from '../config.js';

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

export function logAccessPosture(config: RunConfig, log: Logger): void {
  const where = { host: config.host, port: config.port };
  if (config.allowUnsafeNatives)
    log.warn('UNSAFE: --allowUnsafeNatives: natives may open sections, run programs and load code');
  if (config.insecureOpenWrites && config.apiToken === undefined && !config.readOnly)
    log.warn(
      where,
      'INSECURE: --insecureOpenWrites: the REST API accepts writes without a token from any peer that reaches it',
    );
  else if (config.apiToken === undefined && config.apiReadToken !== undefined && !config.readOnly)
    log.info('only --apiReadToken is set: API writes need that token too; set --apiToken for a separate write token');
  else if (config.apiToken === undefined && !config.readOnly && !isLoopback(config.host))
    log.info(
      where,
      'the REST API takes writes from loopback peers only: set --apiToken (AQUEDUCT_API_TOKEN) to write from the network',
    );
  log.info({ ...where, readOnly: config.readOnly }, 'REST API listening');
}
