// What a certificate and key pair is, judged the way HAProxy and a TLS
// client will read it: the PEM blocks parsed by OpenSSL (node:crypto), the
// key matched against the leaf, the validity window against a given time.
// Pure: the caller reads the files and supplies the clock's now.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CertificateInfo, PairProblem } from './certificate-types.js';

export type { CertificateInfo, PairProblem } from './certificate-types.js';

export type InspectedPair =
  | { ok: true; info: CertificateInfo; /** Chain then key, no blank lines: what HAProxy loads. */ pem: string }
  | { ok: false; problem: PairProblem; message: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** The PEM blocks of a text, each with its label, line endings normalised and blank lines dropped. */
export function pemBlocks(text: string): { label: string; text: string }[] {
  return [...text.matchAll(BLOCK)].map((m) => ({
    label: m[1] ?? '',
    text: m[0]
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join('\n'),
  }));
}

/** OpenSSL's "Dec  2 01:27:38 2026 GMT" as ms since the epoch (Node 20 has no validToDate). */
// Parsing a date's text reads no clock: the one use of Date the pure core allows.
// eslint-disable-next-line no-restricted-globals
export const epochMs = (text: string): number => Date.parse(text);
// eslint-disable-next-line no-restricted-globals
const isoOf = (text: string): string => new Date(epochMs(text)).toISOString();

const dnFields = (dn: string): string =>
  dn
    .split('\n')
    .filter((l) => l !== '')
    .join(', ');

/** Names from "DNS:a.example, DNS:*.a.example, IP Address:127.0.0.1", or the subject's CN. */
function namesOf(leaf: X509Certificate): string[] {
  const san = leaf.subjectAltName;
  if (san !== undefined && san !== '')
    return san
      .split(/,\s*/)
      .map((s) => s.replace(/^DNS:/, '').replace(/^IP Address:/, ''))
      .filter((s) => s !== '');
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.subject)?.[1];
  return cn === undefined ? [] : [cn];
}

export function certificateInfo(leaf: X509Certificate, chainLength: number): CertificateInfo {
  return {
    subject: dnFields(leaf.subject),
    sans: namesOf(leaf),
    issuer: dnFields(leaf.issuer),
    notBefore: isoOf(leaf.validFrom),
    notAfter: isoOf(leaf.validTo),
    fingerprint: leaf.fingerprint256,
    chainLength,
  };
}

type Failure = Extract<InspectedPair, { ok: false }>;
const fail = (problem: PairProblem, message: string): Failure => ({ ok: false, problem, message });

function parseChain(blocks: { label: string; text: string }[]): X509Certificate[] | string {
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) return 'no PEM CERTIFICATE block found';
  try {
    return certs.map((b) => new X509Certificate(b.text));
  } catch (err) {
    return `a CERTIFICATE block does not parse (${(err as Error).message})`;
  }
}

function parseKey(blocks: { label: string; text: string }[]): { key: KeyObject; text: string } | Failure {
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  const key = keys[0];
  if (key === undefined) return fail('invalid key', 'no PEM PRIVATE KEY block found');
  if (keys.length > 1) return fail('invalid key', `${keys.length} private keys where one is expected`);
  if (key.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type: 4,ENCRYPTED$/m.test(key.text))
    return fail(
      'encrypted key',
      'the private key is encrypted; HAProxy needs it unencrypted (openssl pkey -in key.pem)',
    );
  try {
    return { key: createPrivateKey(key.text), text: key.text };
  } catch (err) {
    return fail('invalid key', `the private key does not parse (${(err as Error).message})`);
  }
}

/** Judges a chain (leaf first) and its key; the validity window is judged apart (validityAt). */
export function inspectPair(certText: string, keyText: string): InspectedPair {
  const certBlocks = pemBlocks(certText);
  const chain = parseChain(certBlocks);
  if (typeof chain === 'string') return fail('invalid certificate', chain);
  const key = parseKey(pemBlocks(keyText));
  if ('ok' in key) return key;
  const leaf = chain[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key.key))
    return fail('key mismatch', `the private key does not match the certificate for ${dnFields(leaf.subject)}`);
  const pem = [...certBlocks.filter((b) => b.label === 'CERTIFICATE').map((b) => b.text), key.text].join('\n');
  return { ok: true, info: certificateInfo(leaf, chain.length), pem: `${pem}\n` };
}

export type Validity = 'valid' | 'expired' | 'not yet valid';

export function validityAt(info: Pick<CertificateInfo, 'notBefore' | 'notAfter'>, nowMs: number): Validity {
  if (nowMs < epochMs(info.notBefore)) return 'not yet valid';
  if (nowMs > epochMs(info.notAfter)) return 'expired';
  return 'valid';
}

/** The info of a served PEM (chain then key), e.g. the file kept from the last good pair. */
export function servedInfo(pem: string): CertificateInfo | undefined {
  const chain = parseChain(pemBlocks(pem));
  return typeof chain === 'string' ? undefined : certificateInfo(chain[0] as X509Certificate, chain.length);
}
