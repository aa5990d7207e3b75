#!/usr/bin/env bash
# Installs the original Thalassa Aqueduct 0.5.3 for bench/peer.bench.ts into .bench-peer/
# (outside the project's dependencies: it is a 2013 peer, not a part).
#  - `--ignore-scripts`: its leveldown does not build on Node 20, and nothing else needs a build;
#  - leveldown is swapped for memdown (its databases hold stats and activity, in memory is enough);
#  - its template's `listen stats :1988` is turned into a `bind` line, which HAProxy 2.6 requires.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .bench-peer
cd .bench-peer
[ -f package.json ] || echo '{"name":"aqueduct-bench-peer","private":true}' > package.json
npm install --no-audit --no-fund --ignore-scripts thalassa-aqueduct@0.5.3 memdown@0.10.2
echo "module.exports = require('level-packager')(require('memdown'))" > node_modules/level/level.js
tmpl=node_modules/thalassa-aqueduct/default.haproxycfg.tmpl
sed 's/^  listen stats :1988$/  listen stats\n    bind 127.0.0.1:{{statsPort}}/' "$tmpl" > haproxy26.tmpl
grep -q 'bind 127.0.0.1:{{statsPort}}' haproxy26.tmpl
echo "installed: $(pwd)/node_modules/thalassa-aqueduct (template: $(pwd)/haproxy26.tmpl)"
