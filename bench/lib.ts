// Shared pieces of the benchmarks: timing, stats, atomic writes, and the
// generated manifest sets (test/helpers/manifest-set.ts; the memory test runs one too).
import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

export { manifestSet, toYaml, type SetShape } from '../test/helpers/manifest-set.js';

/** Writes a file the way editors and git do: aside, then rename. */
export async function writeAtomic(dir: string, name: string, text: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, path.join(dir, name));
}

export function machine(): string {
  return `${process.platform} ${process.arch}, Node ${process.version}`;
}
