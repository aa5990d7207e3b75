#!/usr/bin/env bash
# Installs what Aqueduct and its tests need on a Debian machine: haproxy (and
# redis-server, for the tests' real Thalassa registry, and prometheus, for
# promtool, chromium, for the dashboard's browser tests, pebble, the ACME
# directory the TLS tests issue from, and dnsmasq, the DNS server the DNS SRV
# source's tests change records in) from apt when missing,
# then the locked npm packages and a build.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus) # promtool checks the metrics and the alert rules
command -v chromium >/dev/null 2>&1 || missing+=(chromium)     # the dashboard's tests drive Debian's Chromium
command -v pebble >/dev/null 2>&1 || missing+=(pebble)         # an ACME directory (with pebble-challtestsrv) for the ACME tests
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)  # a real DNS server for the DNS SRV source's tests (no system service)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
haproxy -v | sed -n 1p # sed reads it all: head could end the pipe early, and pipefail would fail on the SIGPIPE

npm ci --no-audit --no-fund
npm run build
