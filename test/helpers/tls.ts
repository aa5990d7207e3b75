// Certificates for tests, made in process (no openssl CLI needed), and TLS
// clients that report what the server presented.
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface TestCert {
  cert: string;
  key: string;
  /** SHA-256 as node:crypto prints it. */
  fingerprint: string;
}

/** A self-signed certificate for `names`, valid from `fromDays` to `toDays` around now. */
export async function makeCert(names: string[], fromDays = -1, toDays = 30): Promise<TestCert> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${Math.floor(Math.random() * 1e12).toString(16)}`,
    name: `CN=${names[0] ?? 'test'}`,
    notBefore: new Date(now + fromDays * DAY),
    notAfter: new Date(now + toDays * DAY),
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        names.map((value) => ({ type: /^[0-9.]+$/.test(value) ? ('ip' as const) : ('dns' as const), value })),
      ),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = x509.PemConverter.encode(der, 'PRIVATE KEY');
  const pem = cert.toString('pem');
  return {
    cert: `${pem}\n`,
    key: `${key}\n`,
    fingerprint: new (await import('node:crypto')).X509Certificate(pem).fingerprint256,
  };
}

/** Writes the pair as <name>.crt and <name>.key in dir; returns their paths. */
export async function writePair(
  dir: string,
  name: string,
  c: TestCert,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await writeFile(certFile, c.cert);
  await writeFile(keyFile, c.key);
  return { certFile, keyFile };
}

/** The fingerprint a fresh handshake gets, with this SNI name (none: no SNI), and the ALPN protocol chosen. */
export function handshake(port: number, servername?: string): Promise<{ fingerprint: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...(servername !== undefined && { servername }),
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timeout')));
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      const alpn = socket.alpnProtocol ?? false;
      socket.end();
      resolve({ fingerprint, alpn });
    });
    socket.once('error', reject);
  });
}

/** One HTTP/2 GET over TLS; resolves to its status, headers and body. */
export function http2Get(
  port: number,
  servername: string,
  urlPath = '/',
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername });
    session.once('error', reject);
    const req = session.request({ ':path': urlPath, ':authority': servername });
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    req.on('response', (h) => (headers = h));
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), headers, body });
    });
    req.on('error', reject);
    req.end();
  });
}
