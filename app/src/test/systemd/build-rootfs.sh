#!/usr/bin/env bash
# Builds a minimal Debian root file system with systemd as PID 1, for the real-systemd tests
# (io.shieldpool.systemd.container): `build-rootfs.sh SUITE DIR MIRROR`. DIR appears only when
# complete (built in DIR.partial, then renamed), so a killed build is never reused.
set -euo pipefail
suite=$1 dir=$2 mirror=$3
packages=systemd,systemd-sysv,dbus,procps,iproute2,curl
# Debian 13 has the Java 25 runtime the package depends on; the containers have no network, so it
# goes in now. Debian 12 has none: the tests bind the host's JDK 25 into the container instead.
[[ $suite == bookworm ]] || packages+=,openjdk-25-jre-headless
rm -rf "$dir.partial"
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase --include="$packages" "$suite" "$dir.partial" "$mirror" >"$dir.log" 2>&1 || {
    tail -n 20 "$dir.log" >&2
    exit 1
}
# No getty or network wait in a test container; a machine id so the journal is persistent.
chroot "$dir.partial" systemctl mask console-getty.service getty@tty1.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
chroot "$dir.partial" systemd-machine-id-setup >/dev/null 2>&1 || true
rm -rf "$dir.partial/var/cache/apt/archives"/*.deb
mv "$dir.partial" "$dir"
