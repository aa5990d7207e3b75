// Where the package's own files are, from src/ (tsx) and from the bundle in dist/server/ (built).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('aqueduct: cannot find the package root');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findPackageRoot();
export const DEFAULT_TEMPLATE_FILE = path.join(PACKAGE_ROOT, 'templates', 'haproxy.cfg.mustache');
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/** The built dashboard (scripts/build-ui.mjs, part of `npm run build`). */
export const UI_DIR = path.join(PACKAGE_ROOT, 'dist', 'ui');
