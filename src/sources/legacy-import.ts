// --persistence: the original Thalassa Aqueduct's JSON file, imported into the
// manifests directory at startup. Idempotent: an object whose manifest exists
// already, in any form, is left alone (the directory wins), so restarts import
// nothing twice and no operator's file is ever overwritten.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { objectId } from '../core/manifests/api-objects.js';
import { importLegacyPersistence } from '../core/manifests/legacy-persistence.js';
import { AqueductError } from '../core/issues.js';
import { canonicalFile, existsInAnyForm, type ManifestStore } from './manifest-store.js';

export async function importPersistenceFile(file: string, store: ManifestStore, log: Logger): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      log.info({ persistence: file }, 'no persistence file to import');
      return 0;
    }
    throw new AqueductError('startup', `--persistence ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AqueductError('startup', `--persistence ${file}: not valid JSON: ${(err as Error).message}`);
  }
  const { manifests, problems } = importLegacyPersistence(data);
  for (const p of problems) log.error({ persistence: file }, `not imported: ${p}`);
  const view = await store.read();
  let imported = 0;
  for (const m of manifests) {
    const id = objectId(m.kind, m.metadata.name);
    const target = canonicalFile(m.kind, m.metadata.name);
    // The directory wins, whatever form the object has there: valid, invalid, or a file that does not parse.
    if (existsInAnyForm(view, m.kind, m.metadata.name) || !(await store.create(target, m))) {
      log.info({ object: id }, 'persistence import: already in the manifests directory, kept as it is');
      continue;
    }
    imported++;
    log.info({ object: id, file: target }, 'persistence import: imported');
  }
  return imported;
}
