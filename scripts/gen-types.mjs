// Generates src/core/manifests/schema-types.ts from schemas/: the TypeScript
// shape of a manifest is the JSON Schema's, never a copy kept by hand.
// Run by `npm run build`; test/unit/schema-types.test.ts fails (through
// --check) when the committed file is not what the schemas give.
//
// The types describe a manifest after validation, which fills in defaults
// (ajv's useDefaults): a property with a default is therefore required here.
// Conditional rules (if/then) only narrow values; they are left to ajv.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import prettier from 'prettier';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const OUTPUT = path.join(root, 'src/core/manifests/schema-types.ts');

/** The names the definitions get in TypeScript. */
const TITLES = {
  common: { metadata: 'Metadata', mode: 'Mode' },
  frontend: { '': 'FrontendManifest', spec: 'FrontendSpec', rule: 'Rule', tls: 'FrontendTls', hsts: 'Hsts' },
  backend: {
    '': 'BackendManifest',
    spec: 'BackendSpec',
    health: 'Health',
    member: 'Member',
    versionWeight: 'VersionWeight',
    rollout: 'RolloutSpec',
  },
  certificate: { '': 'CertificateManifest', spec: 'CertificateSpec', acme: 'AcmeSpec' },
};
/** Keywords that only constrain values (ajv checks them), or only word messages. */
const DROPPED = new Set(['allOf', 'if', 'then', 'not', '$schema', '$id', '$defs', 'propertyNames']);

async function loadSchemas() {
  const read = async (name) => JSON.parse(await readFile(path.join(root, 'schemas', `${name}.schema.json`), 'utf8'));
  const names = ['common', 'frontend', 'backend', 'certificate'];
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await read(n)])));
}

/** One schema with every $ref resolved to the same object (so a definition is emitted once), titled. */
function resolver(schemas) {
  for (const [file, titles] of Object.entries(TITLES))
    for (const [def, title] of Object.entries(titles)) {
      const target = def === '' ? schemas[file] : schemas[file].$defs[def];
      target.title = title;
    }
  const done = new Map();
  const target = (ref, file) => {
    const [, urnFile, def] = /^(?:urn:aqueduct:schemas:(\w+))?#\/\$defs\/(\w+)$/.exec(ref) ?? [];
    if (def === undefined) throw new Error(`unexpected $ref ${ref}`);
    const owner = urnFile ?? file;
    return { node: schemas[owner].$defs[def], file: owner };
  };
  const resolve = (node, file) => {
    if (Array.isArray(node)) return node.map((n) => resolve(n, file));
    if (node === null || typeof node !== 'object') return node;
    if (done.has(node)) return done.get(node);
    if (typeof node.$ref === 'string') {
      const { $ref, description: _d, default: _default, ...siblings } = node;
      const t = target($ref, file);
      const resolved = resolve(t.node, t.file);
      const extra = Object.keys(siblings).filter((k) => !k.startsWith('x-'));
      // Siblings that change the type (host's null) make a copy without the title; the rest share the definition.
      return extra.length === 0 ? resolved : { ...resolved, ...siblings, title: undefined };
    }
    const out = {};
    done.set(node, out);
    for (const [k, v] of Object.entries(node)) {
      if (DROPPED.has(k) || k.startsWith('x-')) continue;
      out[k] = k === 'properties' ? mapValues(v, (p) => resolve(p, file)) : resolve(v, file);
    }
    if (node.properties !== undefined) out.required = requiredAfterDefaults(node);
    return out;
  };
  return resolve;
}

const mapValues = (o, f) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** Declared required properties, and those validation fills in from a default. */
function requiredAfterDefaults(node) {
  const defaulted = Object.entries(node.properties)
    .filter(([, p]) => p !== null && typeof p === 'object' && 'default' in p)
    .map(([k]) => k);
  return [...new Set([...(node.required ?? []), ...defaulted])];
}

async function generate() {
  const schemas = await loadSchemas();
  const resolve = resolver(schemas);
  const top = {
    title: 'ManifestSchemas',
    type: 'object',
    additionalProperties: false,
    required: ['frontend', 'backend', 'certificate'],
    properties: {
      frontend: resolve(schemas.frontend, 'frontend'),
      backend: resolve(schemas.backend, 'backend'),
      certificate: resolve(schemas.certificate, 'certificate'),
    },
  };
  const text = await compile(top, 'ManifestSchemas', {
    bannerComment:
      '// Generated from schemas/*.schema.json by scripts/gen-types.mjs (npm run build). Do not edit.\n' +
      '// A manifest after validation: properties with a default are always present.',
    additionalProperties: false,
    declareExternallyReferenced: true,
    strictIndexSignatures: false,
    ignoreMinAndMaxItems: true,
    unknownAny: true,
    format: false,
  });
  const options = (await prettier.resolveConfig(OUTPUT)) ?? {};
  return prettier.format(text, { ...options, filepath: OUTPUT });
}

// `--check`: exit 1 when the file is not what the schemas give (the unit tests run this).
const text = await generate();
const where = path.relative(root, OUTPUT);
if (process.argv.includes('--check')) {
  const current = await readFile(OUTPUT, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${where} is not what schemas/ gives: run npm run build`);
    process.exit(1);
  }
} else {
  await writeFile(OUTPUT, text);
  console.log(`types: ${where} from schemas/`);
}
