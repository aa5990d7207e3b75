// `haproxy -c`: the authority on whether a config is acceptable to the
// binary that will run it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { haproxyEnvironment } from './environment.js';
import type { HaproxyFeatures } from '../core/rendering/render.js';
import { writeScratchFile } from '../files/atomic.js';
import { stageRouteMaps } from './route-map-files.js';

const run = promisify(execFile);

export interface CheckMessage {
  line?: number;
  message: string;
}

export interface CheckResult {
  ok: boolean;
  /** Everything haproxy printed. */
  output: string;
  /** ALERT lines, with the config line they name. */
  errors: CheckMessage[];
}

const ALERT = /\[ALERT\][^:]*:\s*(?:config\s*:\s*)?(?:parsing \[[^:\]]*:(\d+)\]\s*:\s*)?(.*)$/;

/** Parses haproxy's ALERT lines into line + message. */
export function parseCheckOutput(output: string): CheckMessage[] {
  const errors: CheckMessage[] = [];
  for (const raw of output.split('\n')) {
    const m = ALERT.exec(raw);
    if (m === null) continue;
    const message = (m[2] ?? '').trim();
    if (message === '') continue;
    errors.push(m[1] === undefined ? { message } : { line: Number(m[1]), message });
  }
  return errors;
}

/** Runs `haproxy -c -f file`; warnings are not errors. */
export async function checkConfigFile(
  haproxyBin: string,
  file: string,
  env = haproxyEnvironment(process.env),
): Promise<CheckResult> {
  try {
    const { stdout, stderr } = await run(haproxyBin, ['-c', '-f', file], {
      env,
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { ok: true, output: stdout + stderr, errors: [] };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`haproxy binary not found: ${haproxyBin}`, { cause: err });
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    const errors = parseCheckOutput(output);
    return { ok: false, output, errors: errors.length > 0 ? errors : [{ message: output.trim() || e.message }] };
  }
}

/** Checks config text by writing it to a temporary file first. */
export async function checkConfigText(
  haproxyBin: string,
  text: string,
  env = haproxyEnvironment(process.env),
): Promise<CheckResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aqueduct-check-'));
  try {
    const file = path.join(dir, 'haproxy.cfg');
    await writeScratchFile(file, await stageRouteMaps(text, path.join(dir, 'maps')));
    return await checkConfigFile(haproxyBin, file, env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What `haproxy -vv` says of a binary: its version (numbers and as printed) and the options it was built with. */
export interface HaproxyBuild {
  version: [number, number, number];
  /** e.g. "3.0.11-9e587df" or "2.6.12-1+deb12u4". */
  versionText: string;
  /** The OPTIONS line of its build, e.g. "USE_OPENSSL=1 USE_LUA=1 USE_PROMEX=1 USE_PCRE2=1". */
  buildOptions: string;
}

/** Parses `haproxy -vv` output (pure, for tests too). */
export function parseBuild(stdout: string): HaproxyBuild | undefined {
  const m = /version ((\d+)\.(\d+)(?:\.(\d+))?\S*)/.exec(stdout);
  if (m === null) return undefined;
  const options = /^\s*OPTIONS\s*=\s*(.*)$/m.exec(stdout)?.[1]?.trim() ?? '';
  return { version: [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)], versionText: m[1] ?? '', buildOptions: options };
}

/** `haproxy -vv`: version and build options of the binary Aqueduct will run. */
export async function haproxyBuild(haproxyBin: string): Promise<HaproxyBuild> {
  let stdout: string;
  try {
    ({ stdout } = await run(haproxyBin, ['-vv'], { timeout: 10_000, env: haproxyEnvironment(process.env) }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`haproxy binary not found: ${haproxyBin}`, { cause: err });
    }
    throw err;
  }
  const build = parseBuild(stdout);
  if (build === undefined)
    throw new Error(`cannot read the version of ${haproxyBin} from: ${stdout.trim().slice(0, 200)}`);
  return build;
}

/** Version of the haproxy binary, e.g. [2, 6, 12]. */
export const haproxyVersion = async (haproxyBin: string): Promise<[number, number, number]> =>
  (await haproxyBuild(haproxyBin)).version;

/** Directives the binary supports, by version. */
export function featuresOf(version: readonly number[]): HaproxyFeatures {
  const [major = 0, minor = 0] = version;
  return { idleCloseOnResponse: major > 2 || (major === 2 && minor >= 6) };
}

/** Checks config text written to a given path, its routing maps in <file>.maps (kept for inspection after a rejection). */
export async function checkConfigTextAt(
  haproxyBin: string,
  text: string,
  file: string,
  env = haproxyEnvironment(process.env),
): Promise<CheckResult> {
  await writeScratchFile(file, await stageRouteMaps(text, `${file}.maps`));
  return checkConfigFile(haproxyBin, file, env);
}
