// Certificates for the offline commands (`aqueduct validate`): each one's
// files read and judged as the loop would, its problems reported on the
// manifest, and a directory of certificate files and crt-lists (a
// placeholder where a pair is bad) so that `haproxy -c` can load the TLS
// frontends without a running Aqueduct's state directory.
import path from 'node:path';
import type { Issue } from '../core/issues.js';
import type { LocatedManifest } from '../core/manifests/manifests.js';
import type { CertificateManifest } from '../core/manifests/model.js';
import type { DesiredFrontend } from '../core/rendering/desired-state.js';
import { certificatePath, crtLists } from '../core/tls/tls-files.js';
import { CertificateSources } from './certificate-sources.js';
import { servedFor } from '../reconcile/certificates.js';
import { TlsDir } from './tls-dir.js';

function certificateIssue(c: LocatedManifest<CertificateManifest>, message: string): Issue {
  const at = c.manifest.spec.acme === undefined ? ['spec', 'certFile'] : ['spec', 'acme'];
  return {
    code: 'certificate',
    message,
    path: at.join('.'),
    file: c.source.file,
    document: c.source.document,
    line: c.lineOf(at),
    kind: 'Certificate',
    name: c.manifest.metadata.name,
  };
}

/** Writes every certificate and crt-list into tlsDir; returns the certificates' problems (ACME ones are not issued offline). */
export async function stageCertificates(
  certificates: readonly LocatedManifest<CertificateManifest>[],
  frontends: readonly DesiredFrontend[],
  opts: { manifestsDir: string; tlsDir: string; nowMs: number },
): Promise<Issue[]> {
  const sources = new CertificateSources({ manifestsDir: opts.manifestsDir, acmeDir: path.join(opts.tlsDir, 'acme') });
  const dir = new TlsDir(opts.tlsDir);
  const issues: Issue[] = [];
  for (const c of certificates) {
    const { state, pem } = await servedFor(c.manifest, await sources.material(c.manifest), undefined, opts.nowMs);
    if (c.manifest.spec.acme === undefined && state.condition !== 'valid')
      issues.push(certificateIssue(c, `${state.condition}: ${state.message ?? ''}`));
    await dir.write(certificatePath(opts.tlsDir, c.manifest.metadata.name), pem);
  }
  for (const [file, text] of crtLists(opts.tlsDir, frontends)) await dir.write(file, text);
  return issues;
}
