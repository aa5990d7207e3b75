// `aqueduct run`'s options resolved as the command line would: the table's
// defaults, with the given flags as if typed.
import { resolveRunConfig, type RunConfig } from '../../src/config.js';
import { RUN_OPTIONS } from '../../src/options.js';

const DEFAULTS = Object.fromEntries(RUN_OPTIONS.map((o) => [o.flag, 'default' in o ? o.default : undefined]));

export const resolveFlags = (given: Record<string, unknown>): RunConfig =>
  resolveRunConfig({ ...DEFAULTS, ...given }, (f) => (f in given ? 'cli' : 'default'), {});
