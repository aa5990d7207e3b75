// Pairs uploaded through the API (PUT /certificates/{name} with cert and
// key) live in <stateDir>/certificates, never in the manifests directory:
// the manifest the API writes names these files. Each upload gets names of
// its own (a hash of its content), so a write the batch then refuses never
// replaces the pair that serves; older uploads are removed once a newer one
// is written.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic.js';

export interface StoredPair {
  certFile: string;
  keyFile: string;
}

export class StoredPairs {
  constructor(readonly dir: string) {}

  async store(name: string, cert: string, key: string): Promise<StoredPair> {
    const hash = createHash('sha256').update(cert).update('\0').update(key).digest('hex').slice(0, 12);
    const pair = {
      certFile: path.join(this.dir, `${name}.${hash}.crt`),
      keyFile: path.join(this.dir, `${name}.${hash}.key`),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(pair.certFile, cert, 0o600);
    await writeFileAtomic(pair.keyFile, key, 0o600);
    return pair;
  }

  /** Removes the certificate's uploads other than `keep` (all of them when undefined). */
  async prune(name: string, keep?: StoredPair): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const kept = new Set(keep === undefined ? [] : [keep.certFile, keep.keyFile]);
    const mine = new RegExp(`^${name.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.(crt|key)$`);
    for (const n of names) {
      const file = path.join(this.dir, n);
      if (mine.test(n) && !kept.has(file)) await rm(file, { force: true });
    }
  }
}
