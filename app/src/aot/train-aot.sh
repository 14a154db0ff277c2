#!/usr/bin/env bash
# Builds the JDK 25 AOT cache (JEP 483/514) for a shieldpool jar: one training run of the real
# daemon through the real launcher (so the JVM flags match), which starts the pool, reloads once,
# drains on SIGTERM and exits; the JVM then writes the classes it loaded and linked to the cache.
# The launcher uses the cache when it is there.
#
# Usage: train-aot.sh JAR LAUNCHER [CACHE]     (CACHE defaults to JAR with .aot for .jar)
#
# Run at package time (mvn package: next to the jar), in the container image, and by the Debian
# package's postinst (into /var/cache/shieldpool, again whenever a JVM under /usr/lib/jvm changes:
# a cache only fits the JVM build and the jar path it was trained with). A failed training run
# only costs start-up speed and memory, so it warns and exits 0: it never fails a build or an
# installation.
set -u
jar=$1
launcher=$2
aot=${3:-${jar%.jar}.aot}
work=$(mktemp -d "${TMPDIR:-/tmp}/shieldpool-aot.XXXXXX") || { echo "[WARNING] AOT training: no temp directory"; exit 0; }
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$aot")"
rm -f "$aot"
cat > "$work/training.conf" <<'CONF'
shieldpool.pool.size = 3
shieldpool.work.demo.steps = 3
shieldpool.work.demo.step-duration = 30ms
shieldpool.log.format = json
# A daemon already running on this machine holds the default admin port; any free one will do.
shieldpool.admin.port = 0
CONF
# The cache is written next to where the JVM is told; SHIELDPOOL_AOT_CACHE=none keeps the launcher
# from also passing an existing cache (the JVM accepts only one of the two options).
SHIELDPOOL_JAR="$jar" SHIELDPOOL_AOT_CACHE=none SHIELDPOOL_JAVA_OPTS="-XX:AOTCacheOutput=$aot" \
    "$launcher" --config "$work/training.conf" > "$work/training.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    grep -q '"event":"ready"' "$work/training.log" 2>/dev/null && break
    sleep 0.05
done
sleep 0.3
kill -HUP "$pid" 2>/dev/null
sleep 0.3
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [[ $rc -ne 0 || ! -s $aot ]]; then
    echo "[WARNING] AOT training run failed (exit $rc); shieldpool will start without an AOT cache (slower, more memory). Its output:"
    tail -n 20 "$work/training.log"
    rm -f "$aot"
    exit 0
fi
chmod 644 "$aot"
echo "[INFO] AOT cache: $aot ($(du -h "$aot" | cut -f1))"
