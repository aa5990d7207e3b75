// Group commit for API writes. A burst of PUTs (a deploy script, Terraform)
// used to run one `haproxy -c` per request in turn, ~100 ms each: 100 writes
// queued for 14 s. Here a write is checked on its own (schema, preconditions,
// cross-object) at once, then waits for the next batch: every write pending
// while a check runs goes into one candidate with all of them, one
// `haproxy -c`. On a refusal the writes HAProxy's complaints name (by line)
// are refused and the rest checked again; only when it names none is the
// batch bisected. Hand-written: group commit over our own candidate is no
// library's job.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { objectId, setProblems } from '../core/manifests/api-objects.js';
import { manifestGeneration } from '../core/manifests/identity.js';
import type { OwnAddresses } from '../core/manifests/bind.js';
import { checkManifestSet, type LocatedManifest } from '../core/manifests/manifests.js';
import type { Kind, Manifest } from '../core/manifests/model.js';
import type { Issue } from '../core/issues.js';
import type { CandidateCheck } from '../reconcile/reconciler.js';
import { ApiError, problemsError } from './errors.js';
import { findObject, type ManifestStore, type ManifestView } from '../sources/manifest-store.js';

/** One write, checked on its own and waiting for its batch. */
export interface StagedWrite {
  kind: Kind;
  name: string;
  file: string;
  manifest: Manifest;
  /** Checked again on the fresh read the batch makes: the cached view a write was staged on may be a second old. */
  recheck(view: ManifestView): void;
}

export interface WriteOutcome {
  object: Manifest;
  created: boolean;
  file: string;
}

export interface WriteBatchDeps {
  store: ManifestStore;
  /** haproxy -c on what the loop would serve from this read (the reconciler's checkCandidate). */
  checkCandidate(read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] }): Promise<CandidateCheck>;
  own?: OwnAddresses;
  requestApply(trigger: string): void;
  clock: Clock;
  log: Logger;
}

interface Pending {
  write: StagedWrite;
  /** The object as the batch's fresh read found it, if at all. */
  before?: Manifest;
  resolve(r: WriteOutcome): void;
  reject(err: unknown): void;
}

const FS_CODES = ['ENOSPC', 'EROFS', 'EACCES', 'EDQUOT'];
const keyOf = (kind: Kind, name: string): string => `${kind}/${name}`;

/** The directory's objects with these writes in place (each last, in the API's one-object file). */
export function overlay(manifests: readonly LocatedManifest[], writes: readonly StagedWrite[]): LocatedManifest[] {
  const keys = new Set(writes.map((w) => keyOf(w.kind, w.name)));
  return [
    ...manifests.filter((m) => !keys.has(keyOf(m.manifest.kind, m.manifest.metadata.name))),
    ...writes.map((w) => ({ manifest: w.manifest, source: { file: w.file, document: 1 }, lineOf: () => 1 })),
  ];
}

export class WriteBatch {
  private queue: Pending[] = [];
  private inFlight: Pending[] = [];
  private running = false;
  /** Per object, the write in progress: the next one to the same object starts after it settles. */
  private chains = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: WriteBatchDeps) {}

  /**
   * Runs `fn` after any earlier write to the same object has settled, so
   * preconditions (If-Match) are judged against what that write left.
   * Writes to different objects run side by side.
   */
  forObject<T>(kind: Kind, name: string, fn: () => Promise<T>): Promise<T> {
    const key = keyOf(kind, name);
    const run = (this.chains.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return run;
  }

  /** A view with every write still waiting for its check in place: cross-object checks see them. */
  withPending(view: ManifestView): ManifestView {
    const pending = [...this.inFlight, ...this.queue].map((p) => p.write);
    return pending.length === 0 ? view : { ...view, manifests: overlay(view.manifests, pending) };
  }

  /** Queues a write for the next batch; resolves once it is written, or rejects with why not. */
  stage(write: StagedWrite): { done: Promise<WriteOutcome> } {
    const done = new Promise<WriteOutcome>((resolve, reject) => this.queue.push({ write, resolve, reject }));
    void this.run();
    return { done };
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        this.inFlight = this.queue.splice(0);
        await this.flush(this.inFlight).catch((err: unknown) => {
          for (const p of this.inFlight) p.reject(err);
        });
        this.inFlight = [];
      }
    } finally {
      this.running = false;
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const started = this.deps.clock.now();
    const view = await this.deps.store.read({ fresh: true });
    const read = this.deps.clock.now();
    const live = batch.filter((p) => {
      try {
        p.write.recheck(view);
        const before = findObject(view, p.write.kind, p.write.name)?.manifest;
        if (before !== undefined) p.before = before;
        return true;
      } catch (err) {
        p.reject(err);
        return false;
      }
    });
    const accepted = await this.settle(view, live);
    const checked = this.deps.clock.now();
    await this.writeAll(accepted);
    this.deps.log.debug(
      {
        writes: batch.length,
        accepted: accepted.length,
        readMs: read - started,
        checkMs: checked - read,
        writeMs: this.deps.clock.now() - checked,
      },
      'API writes committed together',
    );
  }

  /** The writes that may go in together; every other one is rejected with its reason. */
  private async settle(view: ManifestView, batch: Pending[]): Promise<Pending[]> {
    if (batch.length === 0) return [];
    const manifests = overlay(
      view.manifests,
      batch.map((p) => p.write),
    );
    const consistent = this.withoutCrossObjectIssues(manifests, batch);
    if (consistent.length < batch.length) return this.settle(view, consistent);
    const result = await this.check(view, manifests);
    if (result.ok) return batch;
    const named = (p: Pending) =>
      result.complaints.filter((c) => c.culprits.some((x) => x.kind === p.write.kind && x.name === p.write.name));
    const culprits = batch.filter((p) => named(p).length > 0);
    if (culprits.length > 0) {
      for (const p of culprits)
        p.reject(
          refusal(
            p.write,
            named(p).map((c) => c.message),
          ),
        );
      return this.settle(
        view,
        batch.filter((p) => !culprits.includes(p)),
      );
    }
    // Another object's fault (already in the directory) is not the writers': the loop sets that one aside.
    if (result.complaints.some((c) => c.culprits.length > 0)) return batch;
    if (batch.length === 1) {
      for (const p of batch) p.reject(refusal(p.write, [result.error]));
      return [];
    }
    // HAProxy named no line of ours: halves, until the writes it refuses are found.
    const half = Math.ceil(batch.length / 2);
    const [a, b] = [await this.settle(view, batch.slice(0, half)), await this.settle(view, batch.slice(half))];
    if (a.length + b.length < batch.length) return this.settle(view, [...a, ...b]);
    // Each half passes alone and not together: nothing to tell them apart by, so none goes in.
    for (const p of batch) p.reject(refusal(p.write, [result.error]));
    return [];
  }

  /** Keeps the writes the whole set's cross-object checks accept (a backend a frontend needs was refused, say). */
  private withoutCrossObjectIssues(manifests: readonly LocatedManifest[], batch: Pending[]): Pending[] {
    if (batch.length < 2) return batch;
    const issues = checkManifestSet(manifests, this.deps.own).issues;
    return batch.filter((p) => {
      const own = issues.filter((i) => i.kind === p.write.kind && i.name === p.write.name);
      if (own.length === 0) return true;
      p.reject(problemsError(setProblems(own), `invalid ${objectId(p.write.kind, p.write.name)}`));
      return false;
    });
  }

  private async check(view: ManifestView, manifests: LocatedManifest[]): Promise<CandidateCheck> {
    return this.deps.checkCandidate({ manifests, issues: view.issues }).catch((err: unknown) => {
      // haproxy -c needs its candidate on disk: no room there means no check, so no write.
      if (FS_CODES.includes((err as NodeJS.ErrnoException).code ?? ''))
        throw storageError('the candidate config for haproxy -c (in the state directory)', err);
      throw err;
    });
  }

  private async writeAll(batch: Pending[]): Promise<void> {
    // Exactly what the directory holds: checked, and nothing to write.
    const same = (p: Pending) =>
      p.before !== undefined && manifestGeneration(p.before) === manifestGeneration(p.write.manifest);
    const outcome = (p: Pending) => ({ object: p.write.manifest, created: p.before === undefined, file: p.write.file });
    for (const p of batch.filter(same)) p.resolve(outcome(p));
    const writes = batch.filter((p) => !same(p));
    if (writes.length === 0) return;
    const results = await this.deps.store.writeMany(writes.map((p) => p.write));
    writes.forEach((p, i) => {
      const r = results[i];
      if (r?.status === 'rejected')
        return p.reject(storageError(`${p.write.file} in the manifests directory`, r.reason));
      const id = objectId(p.write.kind, p.write.name);
      this.deps.log.info(
        { object: id, file: p.write.file },
        p.before ? 'API updated an object' : 'API created an object',
      );
      p.resolve(outcome(p));
    });
    // One reconcile for the whole batch: the loop renders the bytes just checked and reuses that check.
    this.deps.requestApply('api');
  }
}

const refusal = (w: StagedWrite, messages: readonly string[]): ApiError =>
  new ApiError(
    'haproxy_rejected',
    `HAProxy refuses the config ${objectId(w.kind, w.name)} would make: ${messages.join('; ')}`,
  );

/** A write the file system refused (full, read-only, no permission): the directory is unchanged. */
export function storageError(what: string, err: unknown): ApiError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ApiError('storage_failed', `cannot write ${what} (${code}); nothing was changed`, [], { errno: code });
}
