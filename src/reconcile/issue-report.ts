// What the last read of the manifests found wrong, kept for GET /status and
// the metrics, and logged once per new set of problems rather than at every
// resync.
import type { Logger } from 'pino';
import { formatIssue, type Issue } from '../core/issues.js';
import type { StaleObject } from '../core/manifests/last-good.js';
import type { ManifestRead } from './run-types.js';

export class IssueReport {
  private issues: Issue[] = [];
  private stale: StaleObject[] = [];
  private reported = '';
  private heldReported = new Set<string>();
  private lastDeclared: ManifestRead = { manifests: [], issues: [] };

  constructor(private readonly log: Logger) {}

  /** The problems of the last read, and the objects served from their last good version. */
  current(): { issues: Issue[]; stale: StaleObject[] } {
    return { issues: this.issues, stale: this.stale };
  }

  /** The manifests as the last run read them (the metrics count objects from it, without reading again). */
  lastRead(): ManifestRead {
    return this.lastDeclared;
  }

  read(declared: ManifestRead, held: readonly string[]): void {
    this.lastDeclared = declared;
    this.reportHeld(held);
  }

  report(issues: Issue[], stale: StaleObject[]): void {
    this.issues = issues;
    this.stale = stale;
    const text = issues.map(formatIssue).join('\n');
    if (text === this.reported) return;
    this.reported = text;
    if (issues.length === 0) {
      this.log.info('all manifests are valid');
      return;
    }
    for (const issue of issues) this.log.warn({ issue }, formatIssue(issue));
    for (const s of stale)
      this.log.warn({ object: `${s.kind}/${s.name}` }, `serving the last good ${s.kind}/${s.name}: ${s.reason}`);
  }

  /** Says once per file that an emptied file is taken for one being written. */
  private reportHeld(files: readonly string[]): void {
    for (const file of files)
      if (!this.heldReported.has(file))
        this.log.warn(
          { file },
          `${file} is empty: taken for a file being written, its objects keep serving; delete the file to delete them`,
        );
    this.heldReported = new Set(files);
  }
}
