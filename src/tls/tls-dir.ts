// <stateDir>/tls: the certificate files HAProxy loads (chain and key, mode
// 0600) and the frontends' crt-lists. Only Aqueduct writes here, so what it
// read or wrote once is known without reading again.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createFileAtomic, readTextIfExists, writeFileAtomic } from '../files/atomic.js';
import { servedInfo } from '../core/tls/certificate.js';
import type { Served } from '../core/tls/certificate-state.js';
import { certificatePath } from '../core/tls/tls-files.js';
import { PLACEHOLDER_ORGANISATION } from './placeholder.js';

const PRIVATE = 0o600;

export class TlsDir {
  private readonly known = new Map<string, string | undefined>();
  /** What each served file holds, parsed, while its text is unchanged. */
  private readonly parsed = new Map<string, { pem: string; served: Served | undefined }>();

  constructor(readonly dir: string) {}

  /** What the certificate's served file holds, if it exists and parses. */
  async served(certificate: string): Promise<Served | undefined> {
    const file = certificatePath(this.dir, certificate);
    const pem = await this.read(file);
    if (pem === undefined) return undefined;
    const hit = this.parsed.get(file);
    if (hit?.pem === pem) return hit.served;
    const info = servedInfo(pem);
    const served = info && { pem, info, placeholder: info.subject.includes(`O=${PLACEHOLDER_ORGANISATION}`) };
    this.parsed.set(file, { pem, served });
    return served;
  }

  async read(file: string): Promise<string | undefined> {
    if (!this.known.has(file)) this.known.set(file, await readTextIfExists(file));
    return this.known.get(file);
  }

  /** Replaces the file (atomically, 0600: a certificate file holds its key). */
  async write(file: string, text: string): Promise<void> {
    if ((await this.read(file)) === text) return;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, text, PRIVATE);
    this.known.set(file, text);
  }

  /** Creates the file if it does not exist; an existing one is left as it is (HAProxy may be serving it). */
  async ensure(file: string, text: string): Promise<void> {
    if ((await this.read(file)) !== undefined) return;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await createFileAtomic(file, text, PRIVATE);
    this.known.set(file, await readTextIfExists(file));
  }

  /** Removes certificate files and crt-lists not in `keep`. */
  async collect(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const sub of ['certs', 'lists']) {
      const dir = path.join(this.dir, sub);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const file = path.join(dir, name);
        if (keep.has(file) || name.startsWith('.')) continue;
        await rm(file, { force: true });
        this.known.delete(file);
        this.parsed.delete(file);
        removed.push(file);
      }
    }
    return removed;
  }
}
