// What HAProxy serves and why, as main, the metrics and the API read it:
// readiness, the applied generation and its hash, the served objects and
// members, the last read's problems, the ledger, and each backend's deploy
// status. Reads only: the loop's other rooms change what it shows.
import type { ConfigStore } from '../core/config-store.js';
import type { BackendDeployStatus } from '../core/manifests/api-shapes.js';
import { sha256 } from '../core/hash.js';
import type { Refusal } from '../core/manifests/last-good.js';
import type { LoadedManifest } from '../core/manifests/model.js';
import type { ApplyRecord } from '../core/planning/ledger.js';
import type { CertificateState } from '../core/tls/certificate-state.js';
import type { ApplyLedger } from './apply-ledger.js';
import type { Candidates } from './candidates.js';
import type { CertificateKeeper } from './certificates.js';
import type { Deploys } from './deploys.js';
import type { DriftWatch } from './drift-watch.js';
import type { IssueReport } from './issue-report.js';
import type { RefusalBook } from './refusal-book.js';
import type { LoopState, ManifestRead } from './run-types.js';

export interface ServedParts {
  state: LoopState;
  ledger: ApplyLedger;
  issues: IssueReport;
  refusals: RefusalBook;
  drift: DriftWatch;
  candidates: Candidates;
  deploys: Deploys;
  certificates: CertificateKeeper;
  store: ConfigStore;
}

export class ServedView {
  /** The applied config's hash, computed once per config rather than per scrape. */
  private hashOf: { config: string; hash: string } | undefined;

  constructor(private readonly parts: ServedParts) {}

  status() {
    const { state, issues, ledger, drift } = this.parts;
    const driftCheck = drift.last();
    return {
      ready: state.applied !== undefined,
      generation: state.applied?.generation,
      ...issues.current(),
      lastApply: ledger.last(),
      ...(driftCheck !== undefined && { driftCheck }),
    };
  }

  ledger(): readonly ApplyRecord[] {
    return this.parts.ledger.all();
  }

  /** The manifests HAProxy serves now (the last applied set). */
  appliedManifests(): readonly LoadedManifest[] {
    return this.parts.state.applied?.manifests ?? [];
  }

  appliedConfig(): string | undefined {
    return this.parts.state.applied?.config;
  }

  /** Servers per backend in the served config. */
  appliedMembers(): Record<string, number> {
    return Object.fromEntries((this.parts.state.applied?.state.backends ?? []).map((b) => [b.name, b.servers.length]));
  }

  /** Frontends HAProxy serves now, with their binds. */
  appliedFrontends(): { name: string; binds: readonly string[] }[] {
    return (this.parts.state.applied?.state.frontends ?? []).map((f) => ({ name: f.name, binds: f.binds }));
  }

  /** The served generation and its config's hash (for metrics and fleet comparison). */
  appliedIdentity(): { generation: number; hash: string } | undefined {
    const a = this.parts.state.applied;
    if (a === undefined) return undefined;
    if (this.hashOf?.config !== a.config) this.hashOf = { config: a.config, hash: sha256(a.config).slice(0, 12) };
    return { generation: a.generation, hash: this.hashOf.hash };
  }

  /**
   * The config of an applied generation, while the history keeps it
   * (--keepGenerations). The one HAProxy serves is known before its file is
   * written: a runtime apply is numbered at once and its file written by the
   * background install.
   */
  async generationConfig(seq: number): Promise<string | undefined> {
    const kept = await this.parts.store.generations.read(seq);
    const applied = this.parts.state.applied;
    return kept ?? (applied?.generation === seq ? applied.config : undefined);
  }

  /** The manifests as the last run read them. */
  lastRead(): ManifestRead {
    return this.parts.issues.lastRead();
  }

  /** Objects set aside because HAProxy refused them, with its words. */
  refused(): Refusal[] {
    return this.parts.refusals.refused();
  }

  /** Resolves once the drift check after the latest reload is done: the status of what it serves is known. */
  afterDriftCheck(): Promise<void> {
    return this.parts.drift.settled();
  }

  /** Every certificate's state as HAProxy serves it (after the last run's renewals or reload). */
  certificateStates(): readonly CertificateState[] {
    return this.parts.certificates.states();
  }

  deployStatus(backend: string): BackendDeployStatus {
    const rollout = this.parts.deploys.positionOf(backend);
    const healthGate = this.parts.deploys.gateOf(backend);
    const held = this.parts.candidates.heldMessage(backend);
    const unresolved = this.parts.drift.unresolvedOf(backend);
    return {
      ...(rollout && { rollout }),
      ...(healthGate && { healthGate }),
      ...(held !== undefined && { held }),
      ...(unresolved !== undefined && { unresolved }),
    };
  }
}
