// The shapes of certificates as the loop, the API and the dashboard see
// them. Types only (no runtime imports), so the dashboard can share them.
import type { CertificateManifest } from '../manifests/model.js';
import type { ObjectStatus } from '../manifests/object-status.js';

/** What GET /certificates shows of a certificate: never the key. */
export interface CertificateInfo {
  /** e.g. "CN=shop.example.com, O=Example". */
  subject: string;
  /** DNS names (and IP addresses) it covers, as written in subjectAltName; the CN when it has none. */
  sans: string[];
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the leaf's DER, colon-separated hex as openssl prints it. */
  fingerprint: string;
  /** Certificates in the chain, the leaf included. */
  chainLength: number;
}

/** Why a pair cannot be served; each is a 400 from the API and a status from a file. */
export type PairProblem = 'invalid certificate' | 'invalid key' | 'encrypted key' | 'key mismatch';

export type CertificateCondition = 'valid' | 'expired' | 'not yet valid' | PairProblem | 'unreadable' | 'pending';

export interface CertificateState {
  name: string;
  /** How the declared material is. */
  condition: CertificateCondition;
  message: string | null;
  /** What HAProxy is given: the declared pair, the last good one, or a placeholder. */
  serving: 'current' | 'previous' | 'placeholder';
  /** Of what is given to HAProxy; null for a placeholder not made yet. */
  info: CertificateInfo | null;
  /** For an ACME certificate: an order under way, and why the last one failed. */
  acme?: { ordering: boolean; lastError: string | null };
}

/** How a certificate is served, in one word (docs/tls.md lists them). */
export type CertificateStatus = CertificateState['condition'] | 'served' | 'unused' | 'renewing' | 'unknown';

export type ApiCertificate = {
  id: string;
  _type: 'certificate';
  key: string;
  name: string;
} & CertificateManifest['spec'] & {
    certificateStatus: CertificateStatus;
    /** Why it is not served as declared; null when it is. */
    message: string | null;
    /** current: the declared pair; previous: the last good pair; placeholder: a self-signed stand-in. */
    serving: CertificateState['serving'] | null;
    frontends: string[];
    /** An ACME certificate's order: under way, and why the last one failed. */
    acmeOrder?: { ordering: boolean; lastError: string | null };
  } & Partial<Omit<CertificateInfo, 'chainLength'>> & { status?: ObjectStatus };
