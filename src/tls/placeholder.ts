// A self-signed certificate that stands in for one that cannot be served
// yet (ACME before its first issuance, a file that does not parse and has no
// last good pair), so the frontend's binds come up and its other
// certificates are served. No client trusts it; its subject says what it is.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

/** What marks a placeholder in its subject: the keeper never treats one as a last good pair. */
export const PLACEHOLDER_ORGANISATION = 'Aqueduct placeholder';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A PEM chain-and-key for `names` (the first is the subject), valid for 90 days from `nowMs`. */
export async function makePlaceholder(names: readonly string[], nowMs: number): Promise<string> {
  // Loaded here, not at start (~90 ms): most runs never need a placeholder.
  const x509: typeof X509 = await import('@peculiar/x509');
  // Node's webcrypto is the standard one; the library's types name the DOM's.
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cn = names[0] ?? 'placeholder.invalid';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto
      .getRandomValues(new Uint8Array(8))
      .reduce((s, b) => s + b.toString(16).padStart(2, '0'), '01'),
    name: `CN=${cn}, O=${PLACEHOLDER_ORGANISATION}`,
    notBefore: new Date(nowMs - 60_000),
    notAfter: new Date(nowMs + 90 * 86_400_000),
    keys: keys as unknown as X509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
  });
  const key = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const pemOf = (text: string) => text.replace(/\r\n/g, '\n').trim();
  return `${pemOf(cert.toString('pem'))}\n${pemOf(x509.PemConverter.encode(key, 'PRIVATE KEY'))}\n`;
}
