// What the API's routes do with frontends and backends: read them with their
// status from the directory and what HAProxy serves, and write them after
// every check the loop would make, so that nothing invalid reaches the
// directory. Routes only translate HTTP to these calls.
import { systemClock, type Clock } from '../clock.js';
import type { DeployEvent } from '../reconcile/deploys.js';
import type { Logger } from 'pino';
import {
  backendFromBody,
  frontendFromBody,
  frontendsUsing,
  objectId,
  resubscribe,
  setProblems,
  withRollout,
  withoutRollout,
  toApiBackend,
  toApiFrontend,
  type BodyResult,
} from '../core/manifests/api-objects.js';
import { manifestGeneration } from '../core/manifests/identity.js';
import {
  certificateFromBody,
  frontendsServing,
  toApiCertificate,
  uploadProblems,
} from '../core/manifests/api-certificates.js';
import type { StoredPairs } from '../tls/stored-pairs.js';
import { atVersion, subscriptionOf, type MemberLookup } from '../core/registry/subscription.js';
import { checkManifestSet, type LocatedManifest } from '../core/manifests/manifests.js';
import type { OwnAddresses } from '../core/manifests/bind.js';
import { nativesIssues } from '../core/manifests/natives-policy.js';
import type {
  BackendManifest,
  FrontendManifest,
  Kind,
  Manifest,
  Metadata,
  Registration,
} from '../core/manifests/model.js';
import type { CheckResult } from '../haproxy/check.js';
import { overlay, storageError, WriteBatch, type StagedWrite } from './write-batch.js';
import { ServedObjects, type LoopView, type ObjectEntry, type Overview } from './served-objects.js';
import { ApiError, problemsError } from './errors.js';
import {
  canonicalFile,
  documentsIn,
  caseTwin,
  existsInAnyForm,
  findObject,
  type ManifestStore,
  type ManifestView,
} from '../sources/manifest-store.js';

export interface ObjectServiceDeps {
  store: ManifestStore;
  loop: LoopView;
  /** The instances of a subscription, from its source (dynamic backends' members). */
  members: MemberLookup;
  /** haproxy -c on a candidate config (its own scratch file: the loop checks concurrently). */
  check(configText: string): Promise<CheckResult>;
  /** Asks the loop to reconcile now. */
  requestApply(trigger: string): void;
  /** Where uploaded certificate pairs are kept (<stateDir>/certificates). */
  pairs: StoredPairs;
  /** Time for waiting on applies (default: the system's). */
  clock?: Clock;
  /** --allowUnsafeNatives: natives may open sections, run programs and load code. */
  allowUnsafeNatives?: boolean;
  /** What Aqueduct owns: no frontend may bind its listeners, no member may point at them. */
  own?: OwnAddresses;
  log: Logger;
}

export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

export interface WriteResult {
  /** The object after the write; undefined after a delete. */
  object?: Manifest;
  created: boolean;
  file: string;
}

const etagList = (header: string): string[] =>
  header.split(',').map((t) =>
    t
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  );

/**
 * If-Match / If-None-Match against the object's generation (its ETag).
 * `present`: the object exists in some form even where it does not validate
 * (If-None-Match: * means "does not exist in any form").
 */
function checkPreconditions(pre: Preconditions, current: Manifest | undefined, id: string, present = false): void {
  const generation = current === undefined ? undefined : manifestGeneration(current);
  if (pre.ifMatch !== undefined) {
    const tags = etagList(pre.ifMatch);
    const ok = generation !== undefined && (tags.includes('*') || tags.includes(generation));
    if (!ok)
      throw new ApiError(
        'precondition_failed',
        generation === undefined
          ? `If-Match: ${id} does not exist`
          : `If-Match: ${id} has changed (its ETag is now "${generation}"); read it again and retry`,
        [],
        { etag: generation ?? null },
      );
  }
  if (pre.ifNoneMatch !== undefined && generation === undefined && present && etagList(pre.ifNoneMatch).includes('*'))
    throw new ApiError(
      'precondition_failed',
      `If-None-Match: ${id} already exists (in a form that does not validate)`,
      [],
      {
        etag: null,
      },
    );
  if (pre.ifNoneMatch !== undefined && generation !== undefined) {
    const tags = etagList(pre.ifNoneMatch);
    if (tags.includes('*') || tags.includes(generation))
      throw new ApiError('precondition_failed', `If-None-Match: ${id} already exists`, [], { etag: generation });
  }
}

const FROM_BODY: Record<Kind, (name: string, body: unknown, metadata?: Metadata) => BodyResult<Manifest>> = {
  Frontend: frontendFromBody,
  Backend: backendFromBody,
  Certificate: certificateFromBody,
};

export class ObjectService {
  private readonly batch: WriteBatch;
  private readonly reads: ServedObjects;

  constructor(private readonly deps: ObjectServiceDeps) {
    this.reads = new ServedObjects({ loop: deps.loop, clock: deps.clock ?? systemClock });
    this.batch = new WriteBatch({
      store: deps.store,
      checkCandidate: (read) => deps.loop.candidates.checkCandidate(read, deps.check),
      ...(deps.own !== undefined && { own: deps.own }),
      requestApply: deps.requestApply,
      clock: deps.clock ?? systemClock,
      log: deps.log,
    });
  }

  /**
   * One write: after any earlier write to the same object, its checks on the
   * directory as it will be (with the writes still pending), then its batch's
   * haproxy -c and the file. The lock is held only for the checks that need
   * no HAProxy, so a burst of writes shares one haproxy -c.
   */
  private async write(
    kind: Kind,
    name: string,
    stage: (view: ManifestView) => Promise<{ done: Promise<WriteResult> }>,
  ): Promise<WriteResult> {
    return this.batch.forObject(kind, name, async () => {
      const ticket = await this.deps.store.exclusive(async () =>
        stage(this.batch.withPending(await this.deps.store.read())),
      );
      return ticket.done;
    });
  }

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  /** Now, on the service's clock: a write's waitApplied counts failures from before its write. */
  now(): number {
    return this.clock.now();
  }

  /** Every object of a kind, declared or still served from its last good version, with its status. */
  async list(kind: Kind): Promise<ObjectEntry[]> {
    return (await this.overview()).objects.filter((e) => e.manifest.kind === kind);
  }

  async get(kind: Kind, name: string): Promise<ObjectEntry> {
    const entry = (await this.overview()).objects.find(
      (e) => e.manifest.kind === kind && e.manifest.metadata.name === name,
    );
    if (entry === undefined) throw new ApiError('not_found', `${objectId(kind, name)} does not exist`);
    return entry;
  }

  toApi(entry: ObjectEntry) {
    const m = entry.manifest;
    if (m.kind === 'Frontend') return toApiFrontend(m, entry.status);
    if (m.kind === 'Certificate') {
      const state = this.deps.loop.served.certificateStates().find((c) => c.name === m.metadata.name);
      const frontends = this.deps.loop.served
        .appliedManifests()
        .flatMap((a) => (a.manifest.kind === 'Frontend' ? [a.manifest] : []));
      return toApiCertificate(m, state, frontendsServing(m.metadata.name, frontends), entry.status);
    }
    const deploy = this.deps.loop.served.deployStatus(m.metadata.name);
    return toApiBackend(m, this.registrationsOf(m), { ...entry.status, ...deploy });
  }

  deployStatus(backend: string) {
    return this.deps.loop.served.deployStatus(backend);
  }

  /** Registry instances of every version the backend may route to: version, versions and a rollout's target. */
  registrationsOf(m: BackendManifest): readonly Registration[] {
    const sub = subscriptionOf(m);
    if (sub === undefined) return [];
    const versions = new Set([sub.version, ...(m.spec.versions ?? []).map((v) => v.version)]);
    if (m.spec.rollout !== undefined) versions.add(m.spec.rollout.to);
    return [...versions].flatMap((v) => this.deps.members(atVersion(sub, v)));
  }

  /** Every object with its status, and every problem of the directory (for GET /status). */
  async overview(): Promise<Overview> {
    return this.reads.overviewOf(await this.deps.store.read());
  }

  /** The objects' status for a read (the loop's last one, for the metrics). */
  overviewOf(read: Pick<ManifestView, 'manifests' | 'issues'>): Overview {
    return this.reads.overviewOf(read);
  }

  /** Resolves once HAProxy serves the object at this generation (see ServedObjects.waitApplied). */
  waitApplied(kind: Kind, name: string, generation: string | null, since: number, timeoutMs: number) {
    return this.reads.waitApplied(kind, name, generation, since, timeoutMs);
  }

  /** PUT: create or replace an object from a request body. */
  async put(kind: Kind, name: string, body: unknown, pre: Preconditions): Promise<WriteResult> {
    if (kind !== 'Certificate') return this.putNow(kind, name, body, pre);
    const upload = uploadProblems(body, this.now());
    if (upload === undefined) return this.putNow(kind, name, body, pre);
    if (upload.length > 0) throw problemsError(upload, `invalid certificate/${name}`);
    const { cert, key, ...rest } = body as { cert: string; key: string };
    const pair = await this.deps.pairs.store(name, cert, key).catch((err: unknown) => {
      throw storageError('the state directory', err);
    });
    const result = await this.putNow(kind, name, { ...rest, ...pair }, pre);
    await this.deps.pairs.prune(name, pair);
    return result;
  }

  private putNow(kind: Kind, name: string, body: unknown, pre: Preconditions): Promise<WriteResult> {
    return this.write(kind, name, async (view) => {
      const existing = findObject(view, kind, name);
      const twin = existing === undefined ? caseTwin(view, kind, name) : undefined;
      if (twin !== undefined)
        throw new ApiError(
          'name_conflict',
          `${objectId(kind, name)} differs only in case from ${twin}: on a case-insensitive file system they would be one file; pick another name`,
        );
      checkPreconditions(pre, existing?.manifest, objectId(kind, name), existsInAnyForm(view, kind, name));
      const metadata = existing?.manifest.metadata;
      const result: BodyResult<Manifest> = FROM_BODY[kind](name, body, metadata);
      if (result.manifest === undefined) throw problemsError(result.problems, `invalid ${objectId(kind, name)}`);
      return this.commit(view, kind, name, existing, result.manifest, pre);
    });
  }

  /** POST /backends/{name}: switch a dynamic backend to another registry name/version, or split it between versions. */
  resubscribe(name: string, body: unknown, pre: Preconditions): Promise<WriteResult> {
    return this.rewriteDynamic(name, pre, 'invalid subscription', (m) => resubscribe(m, body));
  }

  /** POST /backends/{name}/rollout: start (or replace) a progressive rollout. */
  startRollout(name: string, body: unknown, pre: Preconditions): Promise<WriteResult> {
    return this.rewriteDynamic(name, pre, 'invalid rollout', (m) => withRollout(m, body));
  }

  /** DELETE /backends/{name}/rollout: abort; the backend's version takes all traffic again. */
  abortRollout(name: string, pre: Preconditions): Promise<WriteResult> {
    return this.rewriteDynamic(name, pre, 'invalid rollout', (m) => {
      if (m.spec.rollout === undefined) throw new ApiError('no_rollout', `backend/${name} has no rollout`);
      return { manifest: withoutRollout(m), problems: [] };
    });
  }

  /** A completed rollout makes its version the backend's version; nothing when the manifest moved on meanwhile. */
  /** A finished rollout makes its version the backend's version in the manifest; a failure to write is logged. */
  followRollout(e: DeployEvent): void {
    if (e.type !== 'rollout' || e.event !== 'complete') return;
    void this.completeRollout(e.backend, e.position.to).catch((err: unknown) =>
      this.deps.log.warn(
        { backend: e.backend, err: (err as Error).message },
        'could not write the rolled-out version to the manifest',
      ),
    );
  }

  async completeRollout(name: string, to: string): Promise<void> {
    await this.rewriteDynamic(name, {}, 'invalid rollout', (m) =>
      m.spec.rollout?.to === to ? { manifest: withoutRollout(m, to), problems: [] } : { manifest: m, problems: [] },
    );
  }

  /** Rewrites a dynamic backend's manifest through `change`, after the same checks as any write. */
  private rewriteDynamic(
    name: string,
    pre: Preconditions,
    what: string,
    change: (m: BackendManifest) => BodyResult<BackendManifest>,
  ): Promise<WriteResult> {
    return this.write('Backend', name, async (view) => {
      const existing = findObject(view, 'Backend', name) as LocatedManifest<BackendManifest> | undefined;
      if (existing === undefined) throw new ApiError('not_found', `backend/${name} does not exist`);
      checkPreconditions(pre, existing.manifest, `backend/${name}`);
      // The body is checked before the backend's state: a malformed request is a 400 whatever it targets.
      const result = change(existing.manifest);
      if (result.manifest === undefined) throw problemsError(result.problems, `${what} for backend/${name}`);
      if (existing.manifest.spec.type !== 'dynamic')
        throw new ApiError(
          'not_dynamic',
          `backend/${name} is static: versions and rollouts are for a dynamic backend; PUT the backend to change its members`,
        );
      return this.commit(view, 'Backend', name, existing, result.manifest, pre);
    });
  }

  remove(kind: Kind, name: string, pre: Preconditions): Promise<WriteResult> {
    return this.batch.forObject(kind, name, () => this.deps.store.exclusive(() => this.removeNow(kind, name, pre)));
  }

  private async removeNow(kind: Kind, name: string, pre: Preconditions): Promise<WriteResult> {
    const view = this.batch.withPending(await this.deps.store.read({ fresh: true }));
    const existing = findObject(view, kind, name);
    if (existing === undefined) throw new ApiError('not_found', `${objectId(kind, name)} does not exist`);
    checkPreconditions(pre, existing.manifest, objectId(kind, name));
    if (kind !== 'Frontend') {
      const frontends = view.manifests
        .filter((m): m is LocatedManifest<FrontendManifest> => m.manifest.kind === 'Frontend')
        .map((m) => m.manifest);
      const users = kind === 'Backend' ? frontendsUsing(name, frontends) : frontendsServing(name, frontends);
      if (users.length > 0)
        throw new ApiError(
          'in_use',
          `${objectId(kind, name)} is used by ${users.map((u) => `frontend/${u}`).join(', ')}; change or delete those first`,
          [],
          { frontends: users },
        );
    }
    this.ownFile(view, existing, kind, name);
    await this.deps.store.remove(existing.source.file).catch((err: unknown) => {
      throw storageError(`${existing.source.file} in the manifests directory`, err);
    });
    // An uploaded pair goes with its certificate (a file certificate's own files are not Aqueduct's).
    if (kind === 'Certificate') await this.deps.pairs.prune(name);
    this.deps.log.info({ object: objectId(kind, name), file: existing.source.file }, 'API deleted an object');
    this.deps.requestApply('api');
    return { created: false, file: existing.source.file };
  }

  /** A file the API may rewrite or delete for this object: one that holds nothing else. */
  private ownFile(view: ManifestView, existing: LocatedManifest | undefined, kind: Kind, name: string): string {
    const file = existing?.source.file ?? canonicalFile(kind, name);
    const others = view.manifests.filter(
      (m) => m.source.file === file && !(m.manifest.kind === kind && m.manifest.metadata.name === name),
    );
    if (documentsIn(view, file) > 1 || others.length > 0)
      throw new ApiError(
        'shared_file',
        `${objectId(kind, name)} would be written to ${file}, which holds other objects too; edit that file, or move the object to a file of its own`,
        [],
        { file },
      );
    return file;
  }

  /** Cross-object checks on the directory as it would be, then the batch's haproxy -c and the write. */
  private async commit(
    view: ManifestView,
    kind: Kind,
    name: string,
    existing: LocatedManifest | undefined,
    manifest: Manifest,
    pre: Preconditions,
  ): Promise<{ done: Promise<WriteResult> }> {
    const id = objectId(kind, name);
    const write: StagedWrite = {
      kind,
      name,
      file: this.ownFile(view, existing, kind, name),
      manifest,
      // The view may be a second old: the preconditions are judged again on the batch's fresh read.
      recheck: (fresh) =>
        checkPreconditions(pre, findObject(fresh, kind, name)?.manifest, id, existsInAnyForm(fresh, kind, name)),
    };
    const manifests = overlay(view.manifests, [write]);
    const target = manifests[manifests.length - 1] as LocatedManifest;
    const unsafe = this.deps.allowUnsafeNatives === true ? [] : nativesIssues(target);
    const own = [
      ...unsafe,
      ...checkManifestSet(manifests, this.deps.own).issues.filter((i) => i.kind === kind && i.name === name),
    ];
    if (own.length > 0) throw problemsError(setProblems(own), `invalid ${id}`);
    return this.batch.stage(write);
  }
}
