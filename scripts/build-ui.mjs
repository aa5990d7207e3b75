// Bundles the dashboard (ui/) into dist/ui with esbuild: one JS file (preact,
// htm, uPlot and jsdiff inside, no CDN), one CSS file, the HTML page. Fails
// when the gzipped total passes the size budget.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'ui');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'ui', 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
});
const css = [
  await readFile(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'),
  await readFile(path.join(root, 'ui', 'app.css'), 'utf8'),
].join('\n');
await writeFile(path.join(out, 'app.css'), css);
await copyFile(path.join(root, 'ui', 'index.html'), path.join(out, 'index.html'));
const sizes = await Promise.all(
  ['app.js', 'app.css', 'index.html'].map(async (f) => [f, gzipSync(await readFile(path.join(out, f))).length]),
);
const total = sizes.reduce((n, [, s]) => n + s, 0);
process.stdout.write(
  `dashboard: ${sizes.map(([f, s]) => `${f} ${(s / 1024).toFixed(1)} KB`).join(', ')} gzipped; ${(total / 1024).toFixed(1)} KB of the ${BUDGET_BYTES / 1024} KB budget\n`,
);
if (total > BUDGET_BYTES) {
  process.stderr.write('dashboard: over the size budget\n');
  process.exit(1);
}
