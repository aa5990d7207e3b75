// ACME (RFC 8555) through acme-client: one account per state directory
// (its key and URL persisted, so a restart neither re-registers nor loses
// it), one order at a time per certificate, HTTP-01 answered by HAProxy
// (ChallengeMap), the issued pair written to <stateDir>/acme/certificates
// where CertificateSources reads it like any certificate file. When to
// order, and how long to wait after a failure, is core/tls/renewal.ts.
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import type AcmeClient from 'acme-client';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../files/atomic.js';
import type { CertificateInfo } from '../core/tls/certificate.js';
import { afterFailure, FRESH_RENEWAL, mayOrder, renewalDue, type RenewalState } from '../core/tls/renewal.js';
import type { ChallengeMap } from './acme-challenges.js';
import { issuedPair } from './certificate-sources.js';

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email?: string;
  /** CAs to trust for the directory's HTTPS (a private directory). */
  caFile?: string;
  /** <stateDir>/acme */
  dir: string;
  renewBeforeMs: number;
  challenges: ChallengeMap;
  clock: Clock;
  log: Logger;
  /** A pair was written, or a wait after a failure ended: the loop should look again. */
  wake(): void;
}

type Acme = typeof AcmeClient;

/** acme-client and what it pulls in take ~150 ms to load: only an Aqueduct that orders pays for it. */
const loadAcme = async (): Promise<Acme> => (await import('acme-client')).default;

interface Account {
  key: string;
  url: string;
}

/** What the keeper asks of ACME (an interface, so loops without ACME pass none). */
export interface AcmeOrders {
  /** Orders the certificate in the background when it is due. */
  want(name: string, domains: readonly string[], issued: CertificateInfo | undefined): void;
  ordering(name: string): boolean;
  lastError(name: string): string | null;
}

const sameNames = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);

export class AcmeIssuer implements AcmeOrders {
  private client: Promise<{ acme: Acme; client: AcmeClient.Client }> | undefined;
  private readonly orders = new Map<string, Promise<void>>();
  private renewals: Map<string, RenewalState> | undefined;

  constructor(private readonly opts: AcmeIssuerOptions) {}

  /** Where issued pairs are written (CertificateSources reads them there), under <stateDir>/acme. */
  static certificatesDir(dir: string): string {
    return path.join(dir, 'certificates');
  }

  ordering(name: string): boolean {
    return this.orders.has(name);
  }

  lastError(name: string): string | null {
    return this.renewals?.get(name)?.lastError ?? null;
  }

  want(name: string, domains: readonly string[], issued: CertificateInfo | undefined): void {
    if (this.orders.has(name)) return;
    const now = this.opts.clock.now();
    const stale = issued !== undefined && !sameNames(issued.sans, domains);
    if (!stale && !renewalDue(issued, now, this.opts.renewBeforeMs)) return;
    const order = this.orderWhenAllowed(name, domains).finally(() => this.orders.delete(name));
    this.orders.set(name, order);
  }

  private async orderWhenAllowed(name: string, domains: readonly string[]): Promise<void> {
    const renewals = await this.loadRenewals();
    const state = renewals.get(name) ?? FRESH_RENEWAL;
    if (!mayOrder(state, this.opts.clock.now())) return;
    try {
      await this.order(name, domains);
      renewals.set(name, FRESH_RENEWAL);
      this.opts.log.info({ certificate: name, domains }, 'ACME issued the certificate');
    } catch (err) {
      const error = `ACME order failed: ${(err as Error).message}`;
      const next = afterFailure(state, error, this.opts.clock.now());
      renewals.set(name, next);
      this.opts.log.warn({ certificate: name, err: (err as Error).message, retryAt: next.notBefore }, error);
      this.opts.clock.after(next.notBefore - this.opts.clock.now(), () => this.opts.wake());
    }
    await this.saveRenewals(renewals);
    this.opts.wake();
  }

  private async order(name: string, domains: readonly string[]): Promise<void> {
    const { acme, client } = await this.account();
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: domains[0] ?? name, altNames: [...domains] },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    const { challenges } = this.opts;
    const cert = await client.auto({
      csr,
      ...(this.opts.email !== undefined && { email: this.opts.email }),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client would fetch the token itself first, through DNS this host may not share with the CA.
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => challenges.add(challenge.token, keyAuthorization),
      challengeRemoveFn: (_authz, challenge) => challenges.remove(challenge.token),
    });
    const pair = issuedPair(AcmeIssuer.certificatesDir(this.opts.dir), name);
    await writeFileAtomic(pair.key, key.toString(), 0o600);
    await writeFileAtomic(pair.cert, cert, 0o600);
  }

  /** The account: loaded from <dir>/account.json, or registered once and saved there. */
  private account(): Promise<{ acme: Acme; client: AcmeClient.Client }> {
    this.client ??= this.loadAccount().catch((err: unknown) => {
      this.client = undefined; // try again at the next order
      throw err;
    });
    return this.client;
  }

  private async loadAccount(): Promise<{ acme: Acme; client: AcmeClient.Client }> {
    const acme = await loadAcme();
    if (this.opts.caFile !== undefined)
      acme.axios.defaults.httpsAgent = new https.Agent({ ca: await readFile(this.opts.caFile, 'utf8') });
    const file = path.join(this.opts.dir, 'account.json');
    const saved = await readJson<Account>(file);
    const accountKey = saved?.key ?? (await acme.crypto.createPrivateEcdsaKey()).toString();
    const client = new acme.Client({
      directoryUrl: this.opts.directoryUrl,
      accountKey,
      ...(saved !== undefined && { accountUrl: saved.url }),
    });
    if (saved === undefined) {
      const contact = this.opts.email === undefined ? [] : [`mailto:${this.opts.email}`];
      await client.createAccount({ termsOfServiceAgreed: true, contact });
      await writeFileAtomic(file, JSON.stringify({ key: accountKey, url: client.getAccountUrl() }), 0o600);
      this.opts.log.info({ account: client.getAccountUrl() }, 'registered an ACME account');
    }
    return { acme, client };
  }

  private async loadRenewals(): Promise<Map<string, RenewalState>> {
    this.renewals ??= new Map(
      Object.entries((await readJson<Record<string, RenewalState>>(path.join(this.opts.dir, 'renewals.json'))) ?? {}),
    );
    return this.renewals;
  }

  private saveRenewals(renewals: Map<string, RenewalState>): Promise<void> {
    return writeJsonAtomic(path.join(this.opts.dir, 'renewals.json'), Object.fromEntries(renewals));
  }
}
