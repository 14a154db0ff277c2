#!/usr/bin/env bash
# Builds the JDK 25 AOT cache (JEP 483/514) next to the jar, at package time: one training run of
# the real daemon through the real launcher (so the JVM flags match), which starts the pool,
# reloads once, drains on SIGTERM and exits; the JVM then writes the classes it loaded and linked
# to shieldpool.aot. The launcher uses the cache when it is there. A failed training run only
# costs start-up speed, so it warns and never fails the build.
set -u
jar=$1
launcher=$2
work=$(dirname "$jar")/aot-training
aot="${jar%.jar}.aot"
rm -f "$aot"
mkdir -p "$work"
cat > "$work/training.conf" <<'CONF'
shieldpool.pool.size = 3
shieldpool.work.demo.steps = 3
shieldpool.work.demo.step-duration = 30ms
shieldpool.log.format = json
# A daemon already running from this checkout holds the default admin port; any free one will do.
shieldpool.admin.port = 0
CONF
SHIELDPOOL_JAR="$jar" SHIELDPOOL_JAVA_OPTS="-XX:AOTCacheOutput=$aot" \
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
    echo "[WARNING] AOT training run failed (exit $rc); shieldpool will start without an AOT cache. See $work/training.log"
    rm -f "$aot"
    exit 0
fi
echo "[INFO] AOT cache: $aot ($(du -h "$aot" | cut -f1))"
