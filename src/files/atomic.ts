// Writing files atomically (temp file, fsync, rename, fsync the directory),
// so that no reader, and no crash at any moment, ever sees a partial file:
// HAProxy's config, manifests the API writes, and the small state files.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Text is written a slice at a time: a whole config of 100k servers (5 MB) or
 * the applied record (13 MB) written at once is converted into one native
 * buffer of its size, and glibc's allocator keeps such buffers' memory once
 * they are freed (it raises its threshold for giving memory back to the
 * largest size it has freed). Slices of 32 K characters (at most 96 KB)
 * stay below its first threshold.
 */
const WRITE_SLICE_CHARS = 32 * 1024;

async function writeSliced(handle: FileHandle, text: string): Promise<void> {
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + WRITE_SLICE_CHARS, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--; // a pair stays whole
    // Written as a string: Node converts it into a buffer of its own that it frees at once. A Buffer made
    // here would live until V8's next collection, and thousands of them fragment the allocator too.
    const slice = text.slice(at, end);
    const { bytesWritten } = await handle.write(slice);
    const bytes = Buffer.byteLength(slice);
    // A write may take fewer bytes than it was given (a disk filling up): write the rest.
    if (bytesWritten < bytes) await writeAll(handle, Buffer.from(slice).subarray(bytesWritten));
    at = end;
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let done = 0; done < bytes.length;) done += (await handle.write(bytes, done)).bytesWritten;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/** Writes text in place, a slice at a time: for a scratch file no other reader sees until it is written (haproxy -c's). */
export async function writeScratchFile(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await writeSliced(handle, text);
  } finally {
    await handle.close();
  }
}

/** Writes text to a temporary file beside `file`, synced; removes it again if anything fails (a full disk leaves no debris). */
async function writeTemp(file: string, text: string, mode = 0o644): Promise<string> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(tmp, 'w', mode);
    try {
      await writeSliced(handle, text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Writes text to file atomically; `mode` 0o600 for what holds a private key. */
export async function writeFileAtomic(file: string, text: string, mode?: number): Promise<void> {
  const tmp = await writeTemp(file, text, mode);
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/**
 * Creates file with text, atomically, only if no file of that name exists:
 * a hard link fails where rename would replace. False when it existed.
 */
export async function createFileAtomic(file: string, text: string, mode?: number): Promise<boolean> {
  const tmp = await writeTemp(file, text, mode);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(path.dirname(file));
  return true;
}

export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Small JSON state that must survive restarts (what was applied last). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // written atomically, so only a foreign edit gets here: start over
  }
}
