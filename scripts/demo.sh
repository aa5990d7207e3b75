#!/usr/bin/env bash
# Runs Aqueduct on the bundled example manifests with its own HAProxy
# (managed mode), plus the example member servers. Everything lives in .run/,
# which starts clean every time (AQUEDUCT_DEMO_RESUME=1 keeps the previous one).
# Edit .run/manifests/... and watch the routing follow within a second.
# Extra arguments go to `aqueduct run` (npm start -- --acmeDirectory ...).
# Try: curl -H 'Host: staged.myapp.com' http://127.0.0.1:8080/   (backend staged: v1.1.0)
#      curl http://127.0.0.1:8080/                               (backend live: v1.0.0)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/server/cli.js ] || npm run build
# A clean .run/ every time, so what you see is what the README shows. A HAProxy a previous demo
# left behind (killed with -9) would still hold :8080 beside the new one: stop it first.
pkill -f 'haproxy .*\.run/haproxy-master\.sock' 2>/dev/null || true
if [ "${AQUEDUCT_DEMO_RESUME:-}" = 1 ] && [ -d .run ]; then
  echo "demo: resuming the previous .run/ (AQUEDUCT_DEMO_RESUME=1)"
else
  rm -rf .run
fi
mkdir -p .run
[ -d .run/manifests ] || cp -r examples/manifests .run/manifests
wait_for() { # wait_for <what> <command...>: up to 10 s
  local what=$1
  shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: $what did not come up" >&2
  exit 1
}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
# The embedded registry (no Redis needed); the member servers register in it as
# myapp@1.0.0 and myapp@1.1.0, for dynamic backends. Each answers with its
# version as its name ({"server":"v1.1.0:9003"}), so a switch shows as one. The
# static backends serve the same servers: live is 1.0.0 (9001-9002), staged
# the 1.1.0 release (9003-9004).
node bin/aqueduct.js registry --port 9000 &
wait_for "the registry on :9000" node -e "fetch('http://127.0.0.1:9000/registrations').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
REGISTER=http://127.0.0.1:9000,myapp,1.0.0 node examples/echo-server.mjs v1.0.0 9001 9002 &
REGISTER=http://127.0.0.1:9000,myapp,1.1.0 node examples/echo-server.mjs v1.1.0 9003 9004 &
# A broken release, myapp@1.2.0, answering 500 to one request in five: roll it out and watch it roll back.
FAIL_EVERY=5 REGISTER=http://127.0.0.1:9000,myapp,1.2.0 node examples/echo-server.mjs v1.2.0 9005 &
# Members registered before Aqueduct starts: its first apply serves them (no 503 while they arrive).
wait_for "the example members" node -e "fetch('http://127.0.0.1:9000/registrations').then((r) => r.json()).then((l) => process.exit(l.length >= 5 ? 0 : 1), () => process.exit(1))"
echo "Aqueduct: manifests in .run/manifests, dashboard on http://127.0.0.1:10000/, REST API on 127.0.0.1:10000, HAProxy on 127.0.0.1:8080 and :8081 (Ctrl-C stops both)"
node bin/aqueduct.js run \
  --manifests .run/manifests \
  --haproxyMode managed \
  --haproxyCfgPath .run/haproxy.cfg \
  --haproxySocketPath .run/haproxy.sock \
  --haproxyMasterSocket .run/haproxy-master.sock \
  --stateDir .run/state \
  --host 127.0.0.1 --port 10000 \
  --registry socketio --thalassaApiPort 9000 \
  "$@"
