#!/usr/bin/env bash
# Serves the bundled example manifests: renders them with Aqueduct, starts
# the example member servers and a real HAProxy in the foreground.
# Try: curl -H 'Host: staged.myapp.com' http://127.0.0.1:8080/   (staged)
#      curl http://127.0.0.1:8080/                               (live)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/cli.js ] || npm run build
mkdir -p .run
node bin/aqueduct.js validate examples/manifests
node bin/aqueduct.js render examples/manifests --haproxySocketPath "$PWD/.run/haproxy.sock" > .run/haproxy.cfg
haproxy -c -f .run/haproxy.cfg
node examples/echo-server.mjs live 9001 9002 &
node examples/echo-server.mjs staged 9003 9004 &
trap 'kill $(jobs -p) 2>/dev/null' EXIT INT TERM
echo "HAProxy serving examples/manifests on 127.0.0.1:8080 and :8081 (Ctrl-C stops)"
haproxy -W -db -f .run/haproxy.cfg
