#!/usr/bin/env bash
# Installs what the benchmark's peer scenarios (B9, B10) run beside shieldpool: nginx (the static
# file server), Go (a net/http client loop) and aiohttp (the seed's asyncio pattern). Run by
# `mvn -Pbench verify` before the scenarios. Never fails the build: a peer that cannot be had is
# skipped by the benchmark with one line saying so.
set -u
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
