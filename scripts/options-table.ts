// Prints the Markdown table of `aqueduct run` options from src/options.ts,
// for docs/running.md (a test checks the docs list every option).
import { envName, RUN_OPTIONS } from '../src/options.js';

const rows = RUN_OPTIONS.map((o) => {
  const def = 'default' in o && o.default !== undefined ? `\`${String(o.default)}\`` : '';
  const origin = 'original' in o && o.original ? ' (original)' : '';
  return `| \`--${o.flag}\`${origin} | \`${envName(o.flag)}\` | ${def} | ${o.description.replace(/\|/g, '\\|')} |`;
});
process.stdout.write(
  ['| option | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n',
);
