// The Kubernetes manifests under deploy/kubernetes validate against the
// Kubernetes (and Prometheus Operator) schemas, bundled by kubernetes-models,
// and run as a restricted pod: no privilege escalation, every capability
// dropped, RuntimeDefault seccomp, non-root; versioned images with an
// explicit pull policy, and probes on HAProxy and Aqueduct.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { deployYamlFiles, type Doc } from '../helpers/deploy.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: Doc) => Validatable;

/** The model class for a document's apiVersion and kind, from the package that bundles its schema. */
async function modelOf(apiVersion: string, kind: string): Promise<ModelClass> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const modulePath = [pkg, group, version, kind].filter((p) => p !== '').join('/');
  const mod = (await import(modulePath)) as Record<string, ModelClass>;
  const model = mod[kind];
  assert.ok(model !== undefined, `no schema for ${apiVersion} ${kind}`);
  return model;
}

const kubernetesDocs = async (): Promise<{ file: string; doc: Doc }[]> =>
  (await deployYamlFiles())
    .filter((f) => f.file.startsWith('kubernetes/'))
    .flatMap((f) => f.docs.map((doc) => ({ file: f.file, doc })));

type Container = Doc & { name: string; image: string; securityContext?: Doc };
const podOf = (doc: Doc) => ((doc['spec'] as Doc)['template'] as Doc)['spec'] as Doc;
const containersOf = (pod: Doc) => [
  ...((pod['initContainers'] ?? []) as Container[]),
  ...(pod['containers'] as Container[]),
];

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes and Prometheus Operator schemas', async () => {
    const docs = await kubernetesDocs();
    assert.ok(docs.length >= 7, `${docs.length} documents`);
    for (const { file, doc } of docs) {
      const model = await modelOf(String(doc['apiVersion']), String(doc['kind']));
      assert.doesNotThrow(() => new model(doc).validate(), `${file} ${String(doc['kind'])}`);
    }
    assert.ok(docs.some(({ doc }) => doc['kind'] === 'PodMonitor'));
  });

  it('run restricted, with versioned images, an explicit pull policy and probes on HAProxy and Aqueduct', async () => {
    const version = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    for (const { file, doc } of (await kubernetesDocs()).filter((d) => d.doc['kind'] === 'Deployment')) {
      const pod = podOf(doc);
      const podSecurity = pod['securityContext'] as Doc;
      assert.equal(podSecurity['runAsNonRoot'], true, file);
      assert.deepEqual(podSecurity['seccompProfile'], { type: 'RuntimeDefault' }, file);
      for (const c of containersOf(pod)) {
        const where = `${file} ${c.name}`;
        assert.equal(c.securityContext?.['allowPrivilegeEscalation'], false, where);
        assert.deepEqual((c.securityContext?.['capabilities'] as Doc)['drop'], ['ALL'], where);
        assert.ok(!c.image.endsWith(':latest') && c.image.includes(':'), `${where}: ${c.image}`);
        assert.equal(c['imagePullPolicy'], 'IfNotPresent', where);
        if (c.image.startsWith('aqueduct:')) assert.equal(c.image, `aqueduct:${version}`, where);
        if (c.image.startsWith('haproxy:'))
          assert.equal(c.image, 'haproxy:2.6', `${where}: the image's haproxy -c is 2.6`);
        if (c.name === 'haproxy' || c.name === 'aqueduct')
          for (const probe of ['readinessProbe', 'livenessProbe'])
            assert.ok(c[probe] !== undefined, `${where} ${probe}`);
      }
    }
  });
});
