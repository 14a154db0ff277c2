#!/usr/bin/env bash
# Builds the JDK 25 AOT cache (JEP 483/514) for a shieldpool jar: one training run of the real
# daemon through the real launcher (so the JVM flags match), which starts the pool, reloads once,
# drains on SIGTERM and exits; the JVM then writes the classes it loaded and linked to the cache.
# The launcher uses the cache when it is there.
#
# Usage: train-aot.sh [--systemd] [--postgresql] JAR LAUNCHER [CACHE]   (CACHE: JAR with .aot for .jar)
#   --systemd     train as under systemd (a NOTIFY_SOCKET), so the sd_notify classes are in the
#                 cache; without it they are left out, and a daemon outside systemd is ~4 MB smaller.
#   --postgresql  train with the PostgreSQL job store on a throwaway server (PostgreSQL's server
#                 binaries under /usr/lib/postgresql/*/bin; a unix socket in a temp directory, as
#                 nobody when run as root; removed afterwards), so that the ~800 classes of the
#                 PostgreSQL client and the store are in the cache: a daemon on PostgreSQL opens its
#                 store in about a third of the time, and a restart has its orphans back sooner.
#                 After the reload it also runs $VOLUME_JOBS no-op jobs on 64 workers, so that the
#                 cache holds the claim and ack path's method profiles (see volume_config).
#                 `mvn package` writes such a cache as shieldpool-postgresql.aot beside the jar,
#                 which the launcher takes for a config naming the PostgreSQL store. why a second
#                 cache: the JVM relocates the cache it maps, so every class in it costs memory,
#                 and those classes made a daemon without PostgreSQL ~6 MB bigger. Without the
#                 binaries, or if the server does not start, it writes no cache (one line says why).
#
# Run at package time (mvn package: next to the jar), in the container image, and by the Debian
# package's postinst (with --systemd, into /var/cache/shieldpool, again whenever a JVM under
# /usr/lib/jvm changes: a cache only fits the JVM build and the jar path it was trained with).
# The cache appears only when complete (written beside it, then renamed), so a daemon starting
# meanwhile never sees half of one. A failed training run only costs start-up speed and memory,
# so it warns and exits 0: it never fails a build or an installation.
set -u
umask 022
systemd=false
postgresql=false
while [[ ${1:-} == --systemd || ${1:-} == --postgresql ]]; do
    [[ $1 == --systemd ]] && systemd=true
    [[ $1 == --postgresql ]] && postgresql=true
    shift
done
if [[ $# -lt 2 ]]; then
    echo "usage: train-aot.sh [--systemd] [--postgresql] JAR LAUNCHER [CACHE]" >&2
    exit 64
fi
# Absolute paths: the training run starts in the cache's directory (see below).
jar=$(realpath -m -- "$1")
launcher=$(realpath -m -- "$2")
aot=$(realpath -m -- "${3:-${jar%.jar}.aot}")
dir=$(dirname "$aot")
# A fixed name without spaces, relative to $dir: the launcher splits SHIELDPOOL_JAVA_OPTS on spaces.
partial=".shieldpool-aot.$$.partial"
if [[ ! -f $jar || ! -r $jar || ! -x $launcher ]]; then
    echo "[WARNING] AOT training: $jar is not a readable jar or $launcher not an executable launcher; no AOT cache."
    exit 0
fi
pid=
pg=
pgbin=
work=$(mktemp -d "${TMPDIR:-/tmp}/shieldpool-aot.XXXXXX") || { echo "[WARNING] AOT training: no temp directory"; exit 0; }
# Runs a PostgreSQL binary as the server's owner: nobody when we are root (the server refuses root).
as_pg_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}
# Whatever ends this script (done, failed, killed) ends the training JVMs too (the daemon and the
# JVM it starts to write the cache share a process group of their own) and the throwaway server,
# then removes the leftovers.
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    if [[ -n $pg ]]; then
        as_pg_owner "$pgbin/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null 2>&1
        rm -rf "$pg"
    fi
    rm -rf "$work"
    rm -f "$dir/$partial" "$dir/$partial.config"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
mkdir -p "$dir"
cat > "$work/training.conf" <<'CONF'
shieldpool.pool.size = 3
shieldpool.work.demo.steps = 3
shieldpool.work.demo.step-duration = 30ms
shieldpool.log.format = json
# A daemon already running on this machine holds the default admin port; any free one will do.
shieldpool.admin.port = 0
CONF
# The throwaway server for --postgresql: its own directory (not under $work, which only we may
# enter), fsync off (nothing in it outlives the training).
start_postgresql() {
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -z $pgbin || ! -x $pgbin/initdb ]]; then
        echo "[INFO] no $aot: no PostgreSQL server binaries under /usr/lib/postgresql to train with"
        pgbin=
        return 1
    fi
    pg=$(mktemp -d /tmp/shieldpool-aot-pg.XXXXXX) || return 1
    chmod 755 "$pg"
    [[ $(id -u) -eq 0 ]] && chown nobody "$pg"
    as_pg_owner "$pgbin/initdb" --no-sync -A trust -U postgres -E UTF8 --locale=C -D "$pg/data" >"$work/pg.log" 2>&1 || return 1
    printf "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\nshared_buffers = 16MB\n" "$pg" \
        | as_pg_owner tee -a "$pg/data/postgresql.auto.conf" >/dev/null
    as_pg_owner "$pgbin/pg_ctl" -w -t 30 -D "$pg/data" -l "$pg/server.log" start >>"$work/pg.log" 2>&1 || return 1
    cat >> "$work/training.conf" <<CONF
shieldpool.jobs.store = postgresql
shieldpool.jobs.postgresql.url = "postgresql://postgres@/postgres?host=$pg"
CONF
}
# Once the daemon is ready (it has migrated the schema): 40 jobs, so that claims, acks and the
# decoding of their rows are trained too. why psql and not `shieldpool enqueue`: no second JVM.
enqueue_postgresql() {
    "$pgbin/psql" -h "$pg" -U postgres -d postgres -qAt -c "INSERT INTO shieldpool_jobs (queue, payload, state, max_attempts, run_at, created_at)
        SELECT 'default', '{}', 'ready', 3, now(), now() FROM generate_series(1, $1); SELECT pg_notify('shieldpool_jobs', 'default')" \
        >>"$work/pg.log" 2>&1
}
# The PostgreSQL cache's second phase, after the reload: VOLUME_JOBS short sections on 64 workers,
# waited for (bounded), so that the cache also holds the method profiles (JEP 515) of the claim
# and ack path at volume. why: without them each daemon profiles that path afresh in its slow
# first tiers (interpreter, C1 with profiling) and compiles it later; every node of a cluster pays
# that again. Measured with `NODES=4 app/src/bench/pg-where-time-goes.sh app/bin/shieldpool
# 100000` (README, "Where one daemon's CPU goes"). The profiles only seed the first compilations:
# code that runs differently in production (other sections, other batch sizes) is recompiled
# from its own profile as usual, so the steady state does not depend on them.
VOLUME_JOBS=30000
volume_config() {
    cat >> "$work/training.conf" <<'CONF'
shieldpool.pool.size = 64
shieldpool.work.demo { steps = 1, step-duration = 0ms, log-steps = false }
CONF
}
wait_postgresql_done() {
    for _ in $(seq 1 300); do
        [[ $("$pgbin/psql" -h "$pg" -U postgres -d postgres -qAt -c "SELECT count(*) FROM shieldpool_jobs WHERE state IN ('ready', 'running')" 2>/dev/null) == 0 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
if $postgresql && ! start_postgresql; then
    if [[ -n $pgbin ]]; then
        echo "[WARNING] AOT training: the throwaway PostgreSQL server did not start; no $aot:"
        tail -n 5 "$work/pg.log"
    fi
    exit 0
fi
# SHIELDPOOL_AOT_CACHE=none keeps the launcher from also passing an existing cache (the JVM
# accepts only one of the two options). No systemd listens on the socket path: the sends fail
# and are ignored, as the daemon does whenever systemd is gone.
notify=()
$systemd && notify=(NOTIFY_SOCKET="$work/notify")
(
    cd "$dir" || exit 70
    exec setsid env -u NOTIFY_SOCKET "${notify[@]}" SHIELDPOOL_JAR="$jar" SHIELDPOOL_AOT_CACHE=none \
        SHIELDPOOL_JAVA_OPTS="-XX:AOTCacheOutput=$partial" \
        "$launcher" --config "$work/training.conf"
) > "$work/training.log" 2>&1 &
# The JVM itself, leader of its own process group: the subshell, setsid (no fork: a background
# job of a script is not a group leader), env and the launcher all exec.
pid=$!
ready=false
for _ in $(seq 1 300); do
    if grep -q '"event":"ready"' "$work/training.log" 2>/dev/null; then
        ready=true
        break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
if $ready; then
    if [[ -n $pg ]]; then
        enqueue_postgresql 40
        sleep 0.5
        volume_config
    fi
    sleep 0.3
    kill -HUP "$pid" 2>/dev/null
    sleep 0.3
    if [[ -n $pg ]]; then
        enqueue_postgresql "$VOLUME_JOBS"
        wait_postgresql_done || echo "[WARNING] AOT training: the $VOLUME_JOBS training jobs did not finish within 60 s; the cache is written anyway"
    fi
fi
kill -TERM "$pid" 2>/dev/null
# Bounded: a training run that hangs must not hang dpkg or the build.
for _ in $(seq 1 1200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null
fi
wait "$pid"
rc=$?
pid=
if [[ $rc -ne 0 || $ready != true || ! -s $dir/$partial ]]; then
    echo "[WARNING] AOT training run failed (exit $rc); shieldpool will start without an AOT cache (slower, more memory). Its output:"
    tail -n 20 "$work/training.log"
    exit 0
fi
chmod 644 "$dir/$partial"
mv -f "$dir/$partial" "$aot"
echo "[INFO] AOT cache: $aot ($(du -h "$aot" | cut -f1))${pg:+, trained with the PostgreSQL job store}"
