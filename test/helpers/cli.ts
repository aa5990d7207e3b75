// Runs the installed entry point (bin/aqueduct.js over the built dist/), as a user would.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

function ensureBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'server', 'cli.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  options: { bin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  ensureBuilt();
  const bin = path.join(ROOT, 'bin', options.bin ?? 'aqueduct.js');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: ROOT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
