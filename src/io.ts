// Where commands write: stdout/stderr in the CLI, buffers in tests.
import { formatIssue, type Issue } from './core/issues.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function printIssues(io: Io, issues: readonly Issue[]): void {
  for (const issue of issues) io.err(`${formatIssue(issue)}\n`);
}
