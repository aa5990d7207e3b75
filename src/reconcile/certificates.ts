// The loop's certificates: what each Certificate's files hold now, what
// HAProxy is given (decideCertificate), and getting it there. A reload loads
// every file from disk; between reloads, a file whose content changed is
// replaced in the running worker through the runtime API, so a renewal never
// costs a reload. What HAProxy loaded is remembered per file: a reload that
// failed leaves it as it was, and the next run replaces what is behind.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { sha256 } from '../core/hash.js';
import type { CertificateManifest } from '../core/manifests/model.js';
import type { DesiredFrontend } from '../core/rendering/desired-state.js';
import { decideCertificate, type CertificateState, type Material, type Served } from '../core/tls/certificate-state.js';
import { inspectPair, type CertificateInfo, type InspectedPair } from '../core/tls/certificate.js';
import { certificatePath, crtLists } from '../core/tls/tls-files.js';
import type { CertificateUpdater } from '../haproxy/runtime-certificates.js';
import type { CertificateSources } from '../tls/certificate-sources.js';
import { makePlaceholder } from '../tls/placeholder.js';
import type { TlsDir } from '../tls/tls-dir.js';
import type { AcmeOrders } from '../tls/acme-issuer.js';

/** One run's certificates: their states and every file HAProxy needs for them. */
export interface TlsCandidate {
  states: CertificateState[];
  /** Served certificate file → content. */
  certs: Map<string, string>;
  /** crt-list file → content. */
  lists: Map<string, string>;
  /** ACME certificates, with what they serve now when it is their issued pair. */
  acme: { name: string; domains: string[]; current: CertificateInfo | undefined }[];
}

export interface Rotation {
  certificate: string;
  fingerprint: string | null;
  /** replaced: in the running worker; written: on disk only (no frontend loads it). */
  how: 'replaced' | 'written';
}

export interface CertificateKeeperDeps {
  sources: CertificateSources;
  dir: TlsDir;
  updater: CertificateUpdater;
  /** ACME, when --acmeDirectory is set. */
  acme?: AcmeOrders;
  clock: Clock;
  log: Logger;
}

const namesFor = (m: CertificateManifest): string[] => m.spec.acme?.domains ?? [`${m.metadata.name}.invalid`];

/**
 * What one certificate's served file should hold now (decideCertificate),
 * with a placeholder made for its names where one is needed: the loop's
 * runs and `aqueduct validate` both decide through here.
 */
export async function servedFor(
  m: CertificateManifest,
  material: Material,
  served: Served | undefined,
  nowMs: number,
  inspect?: typeof inspectPair,
): Promise<{ state: CertificateState; pem: string }> {
  const decision = decideCertificate(m.metadata.name, material, served, nowMs, inspect);
  const pem = decision.pem === 'placeholder' ? await makePlaceholder(namesFor(m), nowMs) : decision.pem;
  return { state: decision.state, pem };
}

export class CertificateKeeper {
  /** Served file to the hash of what the running worker loaded from it. */
  private readonly loaded = new Map<string, string>();
  private last: CertificateState[] = [];
  /** The certificates last logged as waiting for a frontend to answer challenges. */
  private waitingLogged = '';

  /** The last pair judged per certificate: unchanged files are not parsed again. */
  private readonly judged = new Map<string, { cert: string; key: string; result: InspectedPair }>();

  constructor(private readonly deps: CertificateKeeperDeps) {}

  /** inspectPair, remembered per certificate while its files' text is unchanged. */
  private inspectFor(name: string): (cert: string, key: string) => InspectedPair {
    return (cert, key) => {
      const hit = this.judged.get(name);
      if (hit !== undefined && hit.cert === cert && hit.key === key) return hit.result;
      const result = inspectPair(cert, key);
      this.judged.set(name, { cert, key, result });
      return result;
    };
  }

  /** The certificates' states as HAProxy serves them: set once a run's renewals or its reload are done. */
  states(): readonly CertificateState[] {
    return this.last;
  }

  /** What to serve for these certificates and frontends; `remember`: the loop's run, not a pre-write check (the states become states() once served). */
  async resolve(
    certificates: readonly CertificateManifest[],
    frontends: readonly DesiredFrontend[],
    remember = true,
  ): Promise<TlsCandidate> {
    const { dir, sources, clock } = this.deps;
    const states: CertificateState[] = [];
    const certs = new Map<string, string>();
    const acme: TlsCandidate['acme'] = [];
    for (const m of certificates) {
      const name = m.metadata.name;
      const material = await sources.material(m);
      const { state, pem } = await servedFor(m, material, await dir.served(name), clock.now(), this.inspectFor(name));
      states.push(m.spec.acme === undefined ? state : this.withAcme(name, state));
      certs.set(certificatePath(dir.dir, name), pem);
      const current =
        state.serving === 'current' && state.condition === 'valid' ? (state.info ?? undefined) : undefined;
      if (m.spec.acme !== undefined) acme.push({ name, domains: m.spec.acme.domains, current });
    }
    if (remember) {
      const names = new Set(states.map((st) => st.name));
      for (const name of this.judged.keys()) if (!names.has(name)) this.judged.delete(name);
    }
    return { states, certs, lists: crtLists(dir.dir, frontends), acme };
  }

  /**
   * Orders the ACME certificates that are due, once HAProxy serves this run's
   * config: the plain-HTTP frontends that answer the challenges must be up
   * before the directory validates. Without one, nothing is ordered.
   */
  orderDue(c: TlsCandidate, answering: boolean): void {
    const { acme } = this.deps;
    if (acme === undefined || c.acme.length === 0) return;
    const waiting = answering ? '' : c.acme.map((a) => a.name).join(',');
    if (waiting !== '' && waiting !== this.waitingLogged)
      this.deps.log.warn(
        { certificates: c.acme.map((a) => a.name) },
        'ACME certificates wait: no plain-HTTP frontend answers HTTP-01 challenges (add one on port 80)',
      );
    this.waitingLogged = waiting;
    if (!answering) return;
    for (const a of c.acme) acme.want(a.name, a.domains, a.current);
  }

  /** An ACME certificate's state with its order's. */
  private withAcme(name: string, state: CertificateState): CertificateState {
    const { acme } = this.deps;
    if (acme === undefined)
      return { ...state, message: 'ACME is off: start Aqueduct with --acmeDirectory to issue it' };
    const lastError = acme.lastError(name);
    return {
      ...state,
      ...(lastError !== null && state.condition !== 'valid' && { message: lastError }),
      acme: { ordering: acme.ordering(name), lastError },
    };
  }

  /** Creates the files that do not exist yet, so `haproxy -c` finds them; what HAProxy may be serving is left. */
  async stage(c: TlsCandidate): Promise<void> {
    for (const [file, text] of [...c.certs, ...c.lists]) await this.deps.dir.ensure(file, text);
  }

  /** Before a reload: every file as the candidate has it (the new worker loads them all). */
  async writeAll(c: TlsCandidate): Promise<void> {
    for (const [file, text] of [...c.certs, ...c.lists]) await this.deps.dir.write(file, text);
  }

  /** After a reload the candidate's files are what HAProxy loaded; files nothing uses are removed. */
  async reloaded(c: TlsCandidate): Promise<void> {
    this.loaded.clear();
    for (const [file, text] of c.certs) this.loaded.set(file, sha256(text));
    this.last = c.states;
    const removed = await this.deps.dir.collect(new Set([...c.certs.keys(), ...c.lists.keys()]));
    if (removed.length > 0) this.deps.log.debug({ removed }, 'removed certificate files nothing uses');
  }

  /** Replaces every changed certificate in the running worker (and on disk); throws on HAProxy's refusal. */
  async rotate(c: TlsCandidate): Promise<Rotation[]> {
    const rotations: Rotation[] = [];
    for (const state of c.states) {
      const file = certificatePath(this.deps.dir.dir, state.name);
      const text = c.certs.get(file);
      if (text === undefined) continue;
      const hash = sha256(text);
      const before = this.loaded.get(file) ?? (await this.onDisk(file));
      if (before === hash) continue;
      await this.deps.dir.write(file, text);
      const outcome = await this.deps.updater.replace(file, text);
      this.loaded.set(file, hash);
      const fingerprint = state.info?.fingerprint ?? null;
      rotations.push({ certificate: state.name, fingerprint, how: outcome === 'replaced' ? 'replaced' : 'written' });
    }
    this.last = c.states;
    return rotations;
  }

  /** What a file held before this process wrote it: what a worker started earlier loaded. */
  private async onDisk(file: string): Promise<string | undefined> {
    const text = await this.deps.dir.read(file);
    if (text === undefined) return undefined;
    const hash = sha256(text);
    this.loaded.set(file, hash);
    return hash;
  }
}
