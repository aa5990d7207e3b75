// What to serve, from every input: the manifests as declared (refused
// objects and unsafe natives set aside, broken ones on their last good
// version), rollouts moved on, gated and empty switches held back, rendered.
// The loop builds its candidate here, and the API checks and previews writes
// through the same place, so they can never disagree.
import type { Logger } from 'pino';
import { culpritsOf, describeCheckErrors } from '../core/haproxy-output/check-errors.js';
import { holdEmptySwitches, type EmptyHold } from '../core/deploy/empty-hold.js';
import type { OwnAddresses } from '../core/manifests/bind.js';
import { manifestGeneration } from '../core/manifests/identity.js';
import { selectServable, withRefusals, type ServableSet } from '../core/manifests/last-good.js';
import type { ManifestFile } from '../core/manifests/manifests.js';
import type { BackendManifest, LoadedManifest, MemberMap } from '../core/manifests/model.js';
import { applyNativesPolicy } from '../core/manifests/natives-policy.js';
import { ParseCache } from '../core/manifests/parse-cache.js';
import { configDiff, type ConfigDiff } from '../core/planning/config-diff.js';
import { needsCheck, planner } from '../core/planning/plan.js';
import { desiredStateBuilder, type DesiredState } from '../core/rendering/desired-state.js';
import { renderer } from '../core/rendering/incremental-render.js';
import type { RenderOptions } from '../core/rendering/render.js';
import type { ParseStore } from '../files/parse-store.js';
import type { CheckResult } from '../haproxy/check.js';
import type { CertificateKeeper } from './certificates.js';
import type { Deploys } from './deploys.js';
import type { IssueReport } from './issue-report.js';
import type { RefusalBook } from './refusal-book.js';
import { sourceLookup, type Candidate, type CandidateCheck, type LoopState, type ManifestRead } from './run-types.js';

export interface CandidatesDeps {
  readManifests(): Promise<ManifestFile[]>;
  /** Members of these backends' dynamic ones right now (from their sources). */
  members(backends: readonly BackendManifest[]): MemberMap;
  /** The subscriptions of a dynamic backend's split with no instances now, as name@version. */
  emptySubscriptions(backend: BackendManifest): string[];
  /**
   * Tells the member sources what the served backends follow now, so one
   * that resolves on demand (DNS) resolves exactly those. Only the loop's own
   * runs call it: a dry run or a pre-write check of other manifests must not
   * change what is followed (DNS would forget, then re-learn from nothing,
   * the names a check left out).
   */
  follow(backends: readonly BackendManifest[]): void;
  /** Where parses outlive the process (absent: every start parses every file). */
  parses?: ParseStore;
  /** Rollout positions and health gates. */
  deploys: Deploys;
  /** Certificates: their files, and renewals through the runtime API. */
  certificates: CertificateKeeper;
  log: Logger;
}

export interface CandidatesOptions {
  template: string;
  render: RenderOptions;
  allowUnsafeNatives?: boolean;
  own?: OwnAddresses;
}

export interface CandidateParts {
  state: LoopState;
  refusals: RefusalBook;
  issues: IssueReport;
}

export class Candidates {
  private readonly parsed = new ParseCache();
  private seeded = false;
  /** Backends held from a switch to nothing, by name. */
  private holds = new Map<string, EmptyHold>();
  /** Plans the API's checks against the serving config, split once for a burst of them. */
  private readonly plan = planner();
  /** Desired objects and their rendered text, kept while their manifests are unchanged (one member changed renders one backend). */
  private readonly buildDesired = desiredStateBuilder();
  private readonly render = renderer();

  constructor(
    private readonly deps: CandidatesDeps,
    private readonly opts: CandidatesOptions,
    private readonly parts: CandidateParts,
  ) {}

  /**
   * What may be served from a read of the manifests: unsafe natives and
   * refused objects set aside, each broken object on its last good version.
   * The loop, the API's pre-write check and the API's status all choose here.
   */
  servableOf(read: ManifestRead): ServableSet {
    const policed = applyNativesPolicy(read, this.opts.allowUnsafeNatives === true);
    const applied = this.parts.state.applied?.manifests ?? [];
    return selectServable(
      withRefusals(policed, this.parts.refusals.active(), manifestGeneration),
      applied,
      this.opts.own,
    );
  }

  /** What serving these manifest files instead of the directory would do to HAProxy. Changes nothing. */
  preview(read: ManifestRead): ConfigDiff {
    const servable = this.servableOf(read);
    const candidate = this.render(this.opts.template, this.desiredFrom(servable).state, this.opts.render);
    return configDiff(this.parts.state.applied?.config, candidate, servable.issues);
  }

  /**
   * What the loop would serve for this read, put to `check` (haproxy -c): lets
   * writers refuse changes before they reach the directory. On a refusal,
   * each of HAProxy's complaints with the objects its line falls in.
   */
  async checkCandidate(
    read: ManifestRead,
    check: (configText: string) => Promise<CheckResult>,
  ): Promise<CandidateCheck> {
    const servable = this.servableOf(read);
    const { manifests, state } = this.desiredFrom(servable);
    const candidate = this.render(this.opts.template, state, this.opts.render);
    // haproxy -c loads the certificates: a new one's files must exist (existing ones are left as served).
    const certificates = servable.certificates.map((m) => m.manifest);
    await this.deps.certificates.stage(await this.deps.certificates.resolve(certificates, state.frontends, false));
    // A member or a routing change alone: nothing haproxy -c could refuse, and ~100 ms less for the writer.
    if (!needsCheck(this.plan(this.parts.state.applied?.config, candidate), candidate)) return { ok: true };
    const result = await check(candidate);
    if (result.ok) return { ok: true };
    const lookup = sourceLookup(manifests);
    const complaints = result.errors
      .map((e) => ({ culprits: culpritsOf(candidate, [e]), message: describeCheckErrors(candidate, [e], lookup) }))
      .filter((c) => c.message.length > 0)
      .map((c) => ({ culprits: c.culprits, message: c.message.join('; ') }));
    return { ok: false, complaints, error: describeCheckErrors(candidate, result.errors, lookup).join('; ') };
  }

  /** The manifests, parsed where their text changed (seeded once from the parses an earlier process kept). */
  private async read(): Promise<ReturnType<ParseCache['parse']>> {
    const store = this.deps.parses;
    if (!this.seeded) {
      this.seeded = true;
      this.parsed.seed((await store?.load()) ?? []);
    }
    const declared = this.parsed.parse(await this.deps.readManifests());
    if (this.parsed.changed) store?.save(() => this.parsed.stored());
    return declared;
  }

  /** The run's candidate, from every input. */
  async prepare(): Promise<Candidate> {
    const { deploys, log } = this.deps;
    const declared = await this.read();
    this.parts.issues.read(declared, declared.held);
    this.parts.refusals.forgetEdited(declared.manifests);
    const servable = this.servableOf(declared);
    this.parts.issues.report(servable.issues, servable.stale);
    const backends = servable.backends.map((b) => b.manifest);
    const rolloutNotes = await deploys.advance(backends).catch((err: unknown) => {
      log.warn(
        { err: (err as Error).message },
        'advancing rollouts failed (reading HAProxy counters, or saving their positions); they stay at their step',
      );
      return [];
    });
    this.deps.follow(backends);
    const { manifests, state: wanted } = this.desiredFrom(servable);
    const gated = await deploys.gate(wanted, this.parts.state.applied?.state);
    const held = this.holdEmpty(backends, gated.state);
    const config = this.render(this.opts.template, held.state, this.opts.render);
    const notes = [...rolloutNotes, ...gated.notes, ...held.notes];
    const certificates = servable.certificates.map((m) => m.manifest);
    const tls = await this.deps.certificates.resolve(certificates, held.state.frontends);
    return { declared, manifests, state: held.state, config, notes, tls };
  }

  /** Backends held from a switch to nothing (or a share with no instances) now. */
  held(): EmptyHold[] {
    return [...this.holds.values()];
  }

  heldMessage(backend: string): string | undefined {
    return this.holds.get(backend)?.message;
  }

  private desiredFrom(servable: ServableSet): { manifests: LoadedManifest[]; state: DesiredState } {
    const manifests: LoadedManifest[] = [...servable.frontends, ...servable.backends, ...servable.certificates].map(
      (m) => ({ manifest: m.manifest, source: m.source }),
    );
    const state = this.buildDesired(
      servable.frontends.map((f) => f.manifest),
      servable.backends.map((b) => b.manifest),
      this.deps.members(servable.backends.map((b) => b.manifest)),
    );
    return { manifests, state };
  }

  /** Keeps every dynamic backend a switch would empty at its servers (empty-hold.ts); notes the new holds. */
  private holdEmpty(backends: readonly BackendManifest[], desired: DesiredState) {
    const byName = new Map(backends.map((b) => [b.metadata.name, b]));
    const guarded = new Set(
      backends.filter((b) => b.spec.type === 'dynamic' && b.spec.allowEmpty !== true).map((b) => b.metadata.name),
    );
    const { state, holds } = holdEmptySwitches({
      desired,
      applied: this.parts.state.applied?.state,
      guarded,
      missing: (name) => {
        const b = byName.get(name);
        return b === undefined ? [] : this.deps.emptySubscriptions(b);
      },
    });
    const fresh = holds.filter((h) => this.holds.get(h.backend)?.message !== h.message);
    for (const h of fresh) this.deps.log.warn({ backend: h.backend }, `backend ${h.backend} ${h.message}`);
    this.holds = new Map(holds.map((h) => [h.backend, h]));
    return { state, notes: fresh.map((h) => `backend ${h.backend} ${h.message}`) };
  }
}
