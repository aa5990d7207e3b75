// The routing maps' files (core/rendering/route-maps.ts), written from the
// config text that carries their entries: beside the installed config for
// HAProxy's next start or reload, and beside a candidate for `haproxy -c`,
// which must load a candidate's maps, not the ones being served.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { routeMapsOf } from '../core/rendering/config-sections.js';
import { mapFileText, mapOwner } from '../core/rendering/route-maps.js';
import { readTextIfExists, writeFileAtomic } from '../files/atomic.js';

/**
 * Writes the maps of an installed config into mapDir and removes the map
 * files it no longer has. Only files in mapDir are written: an entry line
 * naming any other place (a comment in natives, say) writes nothing.
 */
export async function installRouteMaps(config: string, mapDir: string): Promise<void> {
  const maps = [...routeMapsOf(config)].filter(([file]) => path.dirname(file) === mapDir);
  if (maps.length > 0) await mkdir(mapDir, { recursive: true });
  for (const [file, entries] of maps) {
    const text = mapFileText(entries);
    // Most installs change no map (a member moved): a read is cheaper than a write and its fsync.
    if ((await readTextIfExists(file)) !== text) await writeFileAtomic(file, text);
  }
  const keep = new Set(maps.map(([file]) => path.basename(file)));
  const present = await readdir(mapDir).catch(() => [] as string[]);
  for (const name of present)
    if (!keep.has(name) && mapOwner(name) !== undefined) await rm(path.join(mapDir, name), { force: true });
}

/**
 * Writes a candidate's maps into stageDir and returns the candidate reading
 * them from there, line for line the same (so `haproxy -c` line numbers
 * still name the candidate's lines).
 */
export async function stageRouteMaps(config: string, stageDir: string): Promise<string> {
  const maps = routeMapsOf(config);
  if (maps.size === 0) return config;
  await rm(stageDir, { recursive: true, force: true });
  await mkdir(stageDir, { recursive: true });
  let staged = config;
  for (const [file, entries] of maps) {
    const at = path.join(stageDir, path.basename(file));
    await writeFile(at, mapFileText(entries));
    staged = staged.replaceAll(`(${file})`, `(${at})`);
  }
  return staged;
}
