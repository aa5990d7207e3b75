// Bundles the server (src/cli.ts and what it imports, dependencies included)
// into dist/server/ with esbuild, which bin/aqueduct.js loads. Why: Node 20
// resolves, reads and compiles every module file on each start, ~140 files of
// ours and ~700 of node_modules' (CommonJS and ESM alike); one bundle is read
// and compiled once, and every start (the loop, each CLI command) is faster
// by that much (docs/benchmarks.md, "Cold start").
//
// Kept out of the bundle, loaded from node_modules as before: packages that
// find their own files next to their code (__dirname), which a bundle moves,
// and the two loaded only on first use (a bundle would not make them start
// faster; @peculiar/x509's decorators lose their metadata when bundled).
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'server');
const bundle = path.join(out, 'cli.js');

/** Each reads files beside its own code at run time: swagger-ui its static files, swagger its package.json, socket.io the client it serves, pino and thread-stream their workers. */
const OWN_FILES = ['@fastify/swagger', '@fastify/swagger-ui', 'socket.io', 'pino', 'thread-stream'];
/** Imported dynamically, when a certificate is read or an ACME order starts. */
const ON_FIRST_USE = ['@peculiar/x509', 'acme-client'];

await rm(out, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: bundle,
  external: [...OWN_FILES, ...ON_FIRST_USE],
  // CommonJS dependencies inside an ESM bundle still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __aqueductRequire } from 'node:module'; const require = __aqueductRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  // One byte per character: V8 keeps a script's source for as long as it runs, and a single character
  // beyond ASCII (a comment's arrow, a license's name) makes it keep all 3.8 MB as two bytes each.
  charset: 'ascii',
  legalComments: 'external',
  logLevel: 'warning',
});
await refuseOwnFileLookups(bundle);
await refuseWideSource(bundle);
process.stdout.write(`server: bundled into ${path.relative(root, bundle)}\n`);

/** A character beyond ASCII left in the bundle (esbuild escapes them in code, not in the comments it keeps): fail the build. */
async function refuseWideSource(file) {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const at = lines.findIndex((l) => /\P{ASCII}/u.test(l));
  if (at === -1) return;
  process.stderr.write(
    `server bundle: a character beyond ASCII at ${file}:${at + 1} (write it in ASCII):\n  ${lines[at]?.trim()}\n`,
  );
  process.exit(1);
}

/** A bundled package that looks for files beside its code would fail only at run time: fail the build instead. */
async function refuseOwnFileLookups(file) {
  const hit = /^(?!\s*(?:\*|\/\/)).*\b(__dirname|__filename)\b/m.exec(await readFile(file, 'utf8'));
  if (hit === null) return;
  process.stderr.write(`server bundle: ${hit[1]} in ${file}: add its package to OWN_FILES\n  ${hit[0].trim()}\n`);
  process.exit(1);
}
