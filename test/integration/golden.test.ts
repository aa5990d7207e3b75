// Golden configs: each directory under test/golden holds manifests (and
// members.json for dynamic backends) and the exact config they must render
// to. Every expected config is also checked by the real haproxy -c (the
// integration suite runs once on the system's HAProxy, once on 3.0 LTS),
// and must draw no warning from it.
// UPDATE_GOLDEN=1 rewrites the expected files after a deliberate change.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildDesiredState } from '../../src/core/rendering/desired-state.js';
import { renderConfig } from '../../src/core/rendering/render.js';
import { checkConfigText } from '../../src/haproxy/check.js';
import { loadManifestDir } from '../../src/sources/manifest-dir.js';
import { readMembersFile } from '../../src/sources/members-file.js';
import { HAPROXY_BIN } from '../helpers/haproxy.js';
import { stageCertificates } from '../../src/tls/offline-certificates.js';
import { writeFile } from 'node:fs/promises';
import { DEFAULT_TEMPLATE, TEST_RENDER_OPTIONS } from '../helpers/render.js';

const GOLDEN = path.join(import.meta.dirname, '..', 'golden');
/** A fixed path, since it is written into the expected configs. */
const GOLDEN_TLS = '/tmp/aqueduct-golden-tls';
const CHALLENGES = path.join(GOLDEN_TLS, 'acme-challenges.map');

describe('golden configs', () => {
  const cases = readdirSync(GOLDEN).filter((d) => existsSync(path.join(GOLDEN, d, 'manifests')));
  it('has cases', () => assert.ok(cases.length >= 3));
  for (const name of cases) {
    it(name, async () => {
      const dir = path.join(GOLDEN, name);
      const set = await loadManifestDir(path.join(dir, 'manifests'));
      assert.deepEqual(set.issues, []);
      const membersFile = path.join(dir, 'members.json');
      const members = existsSync(membersFile) ? await readMembersFile(membersFile) : { members: {}, issues: [] };
      assert.deepEqual(members.issues, []);
      const state = buildDesiredState(
        set.frontends.map((f) => f.manifest),
        set.backends.map((b) => b.manifest),
        members.members,
      );
      const acme = set.certificates.some((c) => c.manifest.spec.acme !== undefined);
      const options = { ...TEST_RENDER_OPTIONS, tlsDir: GOLDEN_TLS, ...(acme && { acmeChallengeMap: CHALLENGES }) };
      const config = renderConfig(DEFAULT_TEMPLATE, state, options);
      const expectedFile = path.join(dir, 'expected.cfg');
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(expectedFile, config);
      assert.equal(config, readFileSync(expectedFile, 'utf8'));
      // What the running loop keeps in <stateDir>/tls: HAProxy loads the certificates and crt-lists from there.
      const manifestsDir = path.join(dir, 'manifests');
      const nowMs = Date.now();
      assert.deepEqual(
        await stageCertificates(set.certificates, state.frontends, { manifestsDir, tlsDir: GOLDEN_TLS, nowMs }),
        [],
      );
      if (acme) await writeFile(CHALLENGES, '');
      // Checked as the loop checks a candidate: its routing maps staged beside it from the text.
      const check = await checkConfigText(HAPROXY_BIN, readFileSync(expectedFile, 'utf8'));
      assert.ok(check.ok, check.output);
      // No warning from what Aqueduct writes, on every HAProxy the suite runs on; a member whose host name
      // does not resolve warns by design (init-addr none: it starts in maintenance instead of failing the config).
      const warnings = check.output
        .split('\n')
        .filter((l) => l.includes('[WARNING]') && !/could not resolve address/.test(l));
      assert.deepEqual(warnings, [], `haproxy -c warns on ${name}`);
    });
  }
});
