#!/usr/bin/env bash
# Builds HAProxy 3.0 LTS from Debian 13 (trixie)'s source package into
# .build/haproxy-3.0/haproxy, for the integration suite's second pass
# (AQUEDUCT_HAPROXY_BIN). The system's haproxy, which the README's commands
# use, is never touched: the trixie source suite is given to apt for this
# script only (its own sources list and package lists under .build/), and
# the binary stays in the repository's build output. Only the upstream
# tarball is needed: the Debian part of the source package may answer 404
# while the tarball arrives. A binary built from the same tarball is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/.build/haproxy-3.0"
apt_dir="$PWD/.build/apt-trixie"
mkdir -p "$apt_dir/lists/partial" "$out/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt_dir/lists")
$sudo apt-get "${apt_opts[@]}" update -qq
(cd "$out/src" && $sudo apt-get "${apt_opts[@]}" source --download-only -qq haproxy >/dev/null 2>&1) || true
tarball=$(ls "$out"/src/haproxy_3.0.*.orig.tar.gz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
  echo "build-haproxy3: no haproxy_3.0.*.orig.tar.gz from the trixie source suite" >&2
  exit 1
fi
sum=$(sha256sum "$tarball" | cut -d ' ' -f 1)
if [ -x "$out/haproxy" ] && [ "$(cat "$out/tarball.sha256" 2>/dev/null)" = "$sum" ]; then
  "$out/haproxy" -v | sed -n 1p
  exit 0
fi
missing=()
for pkg in build-essential libssl-dev libpcre2-dev liblua5.4-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-haproxy3: installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rm -rf "$out/build" && mkdir -p "$out/build"
tar -xzf "$tarball" -C "$out/build" --strip-components=1
make -C "$out/build" -j "$(nproc)" -s TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_PCRE2_JIT=1 \
  USE_LUA=1 LUA_INC=/usr/include/lua5.4 LUA_LIB_NAME=lua5.4 USE_PROMEX=1 >/dev/null
cp "$out/build/haproxy" "$out/haproxy"
echo "$sum" >"$out/tarball.sha256"
rm -rf "$out/build"
"$out/haproxy" -v | sed -n 1p
