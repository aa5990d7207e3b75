// The natives policy's two facts about HAProxy, checked against the HAProxy
// in use: the words haproxy-words.ts reads out of a line are the words HAProxy
// itself gives (each sent back as a response header), and SECTION_KEYWORDS
// holds every section keyword this HAProxy knows (every candidate word of its
// manual probed at the top of a config).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { haproxyWords } from '../../src/core/manifests/haproxy-words.js';
import { SECTION_KEYWORDS } from '../../src/core/rendering/config-sections.js';
import { tempDir } from '../helpers/fixtures.js';
import { freePort, HAPROXY_BIN, startHaproxy } from '../helpers/haproxy.js';

const run = promisify(execFile);
const MANUAL = '/usr/share/doc/haproxy/configuration.txt.gz';

const WORDS = [
  'b\\ c',
  '"b c"',
  "'b \\x41'",
  '"\\x41\\t"',
  'a""b',
  '\\"q',
  '"a\\$FOO"',
  '$FOO',
  'glob\\al',
  '"glo"bal',
  "'a\"b'",
  '"a\'b"',
  '\\#x',
  '"x#y"',
];

/** The header values HAProxy answers for `hdr x-i <word>`, one per word. */
async function haproxyReads(words: readonly string[]): Promise<string[]> {
  const dir = await tempDir();
  const port = await freePort();
  const hdrs = words.map((w, i) => `hdr x-w${i} ${w}`).join(' ');
  const cfg = path.join(dir, 'h.cfg');
  await writeFile(
    cfg,
    `defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\nfrontend f\n  bind 127.0.0.1:${port}\n  http-request return status 200 content-type text/plain string ok ${hdrs}\n`,
  );
  const h = await startHaproxy(cfg, port);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return words.map((_w, i) => res.headers.get(`x-w${i}`) ?? '<none>');
  } finally {
    await h.stop();
  }
}

/** Whether `word` opens a section in this HAProxy: an unknown line after it is refused inside a section, not out of one. */
async function opensSection(dir: string, word: string): Promise<boolean> {
  const cfg = path.join(dir, `${word.replace(/[^a-z0-9_-]/gi, '_')}.cfg`);
  await writeFile(cfg, `${word} probe\nzzz-not-a-keyword\n`);
  const out = await run(HAPROXY_BIN, ['-c', '-f', cfg]).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  );
  // Each section's parser words its refusal its own way; outside any section it says so.
  const probe = out.split('\n').find((l) => l.includes(':2]') && l.includes('zzz-not-a-keyword'));
  return probe !== undefined && !probe.includes('out of section');
}

describe("natives are judged on HAProxy's own words", () => {
  it('reads each word as HAProxy does', async () => {
    const ours = WORDS.map((w) => haproxyWords(w).words.join(' '));
    // A header value carries neither a tab nor a leading or trailing space: compare as HAProxy sends them.
    assert.deepEqual(
      ours.map((w) => w.replace(/\t/g, '').trim()),
      (await haproxyReads(WORDS)).map((w) => w.replace(/\t/g, '').trim()),
    );
  });

  it('knows every section keyword of this HAProxy', async (t) => {
    if (!existsSync(MANUAL)) return t.skip(`no manual at ${MANUAL} to take candidate words from`);
    const candidates = new Set(
      [
        ...gunzipSync(readFileSync(MANUAL))
          .toString('utf8')
          .matchAll(/^([a-z][a-z0-9_.-]*)(?: |$)/gm),
      ].map((m) => m[1] ?? ''),
    );
    for (const k of ['global', 'defaults', 'backend', 'listen', 'namespace_list']) candidates.add(k);
    const dir = await tempDir();
    const words = [...candidates];
    const sections: string[] = [];
    for (let i = 0; i < words.length; i += 16) {
      const batch = words.slice(i, i + 16);
      const found = await Promise.all(batch.map((w) => opensSection(dir, w)));
      sections.push(...batch.filter((_w, j) => found[j] === true));
    }
    assert.ok(sections.includes('frontend') && sections.includes('ring'), `probe found: ${sections.join(', ')}`);
    assert.deepEqual(
      sections.filter((s) => !SECTION_KEYWORDS.has(s)),
      [],
    );
  });
});
