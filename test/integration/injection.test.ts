// No value may inject HAProxy syntax. Every string field of a manifest set
// that uses every field gets newline, carriage return, NUL, '#' and quote
// payloads: each is refused at that field, or, where the field accepts it,
// rendered so that it stays one literal argument (checked by haproxy -c).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadManifestSet } from '../../src/core/manifests/manifests.js';
import { checkConfigText } from '../../src/haproxy/check.js';
import { everyFieldSet, yamlFile, type JsonObject } from '../helpers/fixtures.js';
import { HAPROXY_BIN } from '../helpers/haproxy.js';
import { renderFiles } from '../helpers/render.js';
import { dotted, IN_LINE, LINE_BREAKERS, stringLeaves, withPayloadAt } from '../helpers/payloads.js';

describe('injection', () => {
  const set = everyFieldSet();
  const baseline = renderFiles([yamlFile('all.yaml', ...set)]);
  const fields = set.flatMap((doc, docIndex) =>
    stringLeaves(doc)
      .filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind')
      .map((p) => ({ docIndex, path: p, name: `${String(doc['kind'])}/${dotted(p)}` })),
  );

  it('covers every string field of the model', () => {
    assert.deepEqual(baseline.set.issues, []);
    const names = new Set(fields.map((f) => f.name.replace(/\[\d+\]/g, '[]')));
    for (const expected of [
      'Frontend/metadata.name',
      'Frontend/spec.bind',
      'Frontend/spec.backend',
      'Frontend/spec.mode',
      'Frontend/spec.keepalive',
      'Frontend/spec.rules[].type',
      'Frontend/spec.rules[].operation',
      'Frontend/spec.rules[].header',
      'Frontend/spec.rules[].value',
      'Frontend/spec.rules[].backend',
      'Frontend/spec.natives[]',
      'Backend/spec.type',
      'Backend/spec.name',
      'Backend/spec.version',
      'Backend/spec.balance',
      'Backend/spec.host',
      'Backend/spec.health.method',
      'Backend/spec.health.uri',
      'Backend/spec.health.httpVersion',
      'Backend/spec.mode',
      'Backend/spec.natives[]',
      'Backend/spec.members[].host',
    ]) {
      assert.ok(names.has(expected), `fixture lacks ${expected}`);
    }
  });

  for (const [label, payload] of Object.entries(LINE_BREAKERS)) {
    it(`refuses a ${label} in every string field, natives included`, () => {
      for (const field of fields) {
        const docs = structuredClone(set);
        const { doc } = withPayloadAt(docs[field.docIndex] as JsonObject, field.path, payload);
        docs[field.docIndex] = doc;
        const result = loadManifestSet([yamlFile('all.yaml', ...docs)]);
        const own = result.issues.filter((i) => i.document === field.docIndex + 1);
        assert.ok(
          own.some((i) => i.path === dotted(field.path)),
          `${field.name} accepted a ${label}: ${JSON.stringify(own)}`,
        );
        const rejectedName = String((doc['metadata'] as JsonObject)['name']);
        const kind = doc['kind'] === 'Frontend' ? result.frontends : result.backends;
        assert.ok(!kind.some((m) => m.manifest.metadata.name === rejectedName), `${field.name} still served`);
      }
    });
  }

  it("keeps '#' and quotes harmless: refused, or one literal argument", async () => {
    let accepted = 0;
    for (const [label, payload] of Object.entries(IN_LINE)) {
      for (const field of fields) {
        const docs = structuredClone(set);
        const { doc, value } = withPayloadAt(docs[field.docIndex] as JsonObject, field.path, payload);
        docs[field.docIndex] = doc;
        const rendered = renderFiles([yamlFile('all.yaml', ...docs)]);
        const refused = rendered.set.issues.some((i) => i.path === dotted(field.path));
        if (refused) continue;
        accepted++;
        assert.deepEqual(rendered.set.issues, [], `${field.name} with ${label}`);
        if (field.path[field.path.length - 2] === 'natives') continue; // raw lines by design
        // The only field that takes these is a rule value: it must stay inside single quotes.
        assert.deepEqual(field.path.slice(-1), ['value'], `${field.name} accepted a ${label}`);
        const aclLine = rendered.config.split('\n').find((l) => l.includes(value));
        assert.ok(aclLine !== undefined);
        assert.match(aclLine.trim(), new RegExp(`^acl \\S+ \\S+ -- '[^']*'$`));
        assert.equal(rendered.config.split('\n').length, baseline.config.split('\n').length);
        const check = await checkConfigText(HAPROXY_BIN, rendered.config);
        assert.ok(check.ok, `${field.name} with ${label}: ${check.output}`);
      }
    }
    assert.ok(accepted > 0, 'no payload was accepted anywhere: the literal-argument path went untested');
  });
});
