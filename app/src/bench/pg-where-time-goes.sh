#!/usr/bin/env bash
# Where a PostgreSQL daemon run's time goes (issue 17, P1): one daemon, N no-op jobs, on a
# throwaway PostgreSQL 15 with pg_stat_statements (fsync and synchronous_commit on). Prints the
# rate, the CPU per job of the daemon and of the server (which a loaded machine disturbs far less
# than the rate), the WAL flushes, the statements (calls, server time, rows: round trips per job),
# the daemon's claim and ack latencies (/status) and its CPU by thread.
#
#   app/src/bench/pg-where-time-goes.sh app/bin/shieldpool 20000 ["shieldpool.jobs.claim-batch = 64"]
#
# Environment: PORT (admin port, 18777), WORKERS (64), NODES (1: that many daemons on the one
# database, admin ports PORT, PORT+1...; the daemon figures are their sums), JFR=FILE.jfr (a JFR recording of the run is
# dumped there, the other nodes' to FILE-1.jfr...; with -XX:StartFlightRecording=name=diag,... in
# SHIELDPOOL_JAVA_OPTS it records from the start, else the script starts it with jcmd once the
# daemons are ready, execution samples every 1 ms: then the JVM keeps its AOT cache, which
# StartFlightRecording makes it drop), AUTO_EXPLAIN=MS
# (the server logs the plan, with actual rows and buffers, of every statement slower than MS ms;
# the first few are printed at the end).
set -euo pipefail
launcher=$1 jobs=$2 extra=${3:-}
port=${PORT:-18777} workers=${WORKERS:-64} nodes=${NODES:-1}
bin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/shieldpool-pgwhere.XXXXXX)
as_server() { if [[ $(id -u) == 0 ]]; then runuser -u nobody -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown nobody "$dir"
as_server "$bin/initdb" --no-sync -A trust -U postgres -E UTF8 --locale=C -D "$dir/data" > /dev/null
cat >> "$dir/data/postgresql.auto.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
shared_buffers = 16MB
max_connections = 40
max_wal_size = 256MB
shared_preload_libraries = 'pg_stat_statements${AUTO_EXPLAIN:+, auto_explain}'
pg_stat_statements.track = all
CONF
if [[ -n ${AUTO_EXPLAIN:-} ]]; then
    cat >> "$dir/data/postgresql.auto.conf" <<CONF
auto_explain.log_min_duration = '${AUTO_EXPLAIN}ms'
auto_explain.log_analyze = on
auto_explain.log_buffers = on
auto_explain.log_nested_statements = on
CONF
fi
as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start > /dev/null
daemons=()
cleanup() {
    for d in "${daemons[@]}"; do kill -TERM "$d" 2> /dev/null && wait "$d" || true; done
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
psql() { "$bin/psql" -X -q -At -h "$dir" -U postgres -d postgres -c "$1"; }
psql "CREATE EXTENSION pg_stat_statements"
config() {
    cat <<CONF
shieldpool.log.format = json
shieldpool.log.level = info
shieldpool.admin.port = $2
shieldpool.pool.size = $1
shieldpool.work.demo { steps = 1, step-duration = 0ms, log-steps = false }
shieldpool.shutdown.grace = 60s
shieldpool.jobs.store = postgresql
shieldpool.jobs.postgresql.url = "postgresql://postgres@/postgres?host=$dir"
$extra
CONF
}
config 0 "$port" > "$dir/node0.conf"
seq 1 "$jobs" | sed 's/.*/{"n": &}/' | "$launcher" enqueue --quiet --config "$dir/node0.conf" - > /dev/null
for ((i = 0; i < nodes; i++)); do
    config 0 $((port + i)) > "$dir/node$i.conf"
    "$launcher" --config "$dir/node$i.conf" > "$dir/daemon$i.log" 2>&1 &
    daemons+=($!)
done
for ((i = 0; i < nodes; i++)); do
    until grep -qs '"ready' "$dir/daemon$i.log"; do sleep 0.1; done
done
daemon=${daemons[0]}
jdk_bin=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin
if [[ -n ${JFR:-} && ${SHIELDPOOL_JAVA_OPTS:-} != *StartFlightRecording* ]]; then
    "$jdk_bin/jfr" configure --input profile jdk.ExecutionSample#period=1ms --output "$dir/run.jfc" > /dev/null
    for d in "${daemons[@]}"; do "$jdk_bin/jcmd" "$d" JFR.start name=diag settings="$dir/run.jfc" > /dev/null; done
fi
daemon_ticks() { ticks $(printf '/proc/%s/stat ' "${daemons[@]}"); }
psql "VACUUM ANALYZE"
psql "SELECT pg_stat_statements_reset(); SELECT pg_stat_reset_shared('wal')" > /dev/null
ticks() { awk '{s += $14 + $15} END {print s + 0}' "$@" 2> /dev/null || echo 0; }
server_ticks() {
    local postmaster
    postmaster=$(head -1 "$dir/data/postmaster.pid")
    ticks "/proc/$postmaster/stat" $(pgrep -P "$postmaster" | sed 's|.*|/proc/&/stat|')
}
for ((i = 0; i < nodes; i++)); do
    config "$workers" $((port + i)) > "$dir/next.conf"
    mv "$dir/next.conf" "$dir/node$i.conf"
done
log0=$(wc -l < "$dir/server.log")
# per thread (name, ticks) of every daemon, to say where the run's own CPU went (JIT apart)
thread_ticks() { for t in $(printf '/proc/%s/task/* ' "${daemons[@]}"); do echo "$(cat "$t/comm" 2> /dev/null | tr ' ' _) $(awk '{print $14 + $15}' "$t/stat" 2> /dev/null)"; done; }
# why: a section's answer that wakes a sleeping event loop costs a context switch
ctx_switches() { cat $(printf '/proc/%s/task/*/status ' "${daemons[@]}") 2> /dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
thread_ticks > "$dir/threads0"
cs0=$(ctx_switches)
d0=$(daemon_ticks) s0=$(server_ticks) t0=$(date +%s.%N)
kill -HUP "${daemons[@]}"
# why two counts: each is served by its own partial index, so the poll itself costs the server little
until [[ $(psql "SELECT (SELECT count(*) FROM shieldpool_jobs WHERE state = 'ready') + (SELECT count(*) FROM shieldpool_jobs WHERE state = 'running')") == 0 ]]; do
    sleep 0.01
done
t1=$(date +%s.%N) d1=$(daemon_ticks) s1=$(server_ticks)
thread_ticks > "$dir/threads1"
cs1=$(ctx_switches)
hz=$(getconf CLK_TCK)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $nodes daemon(s) x $workers workers"
awk -v n="$jobs" -v t0="$t0" -v t1="$t1" -v d="$((d1 - d0))" -v s="$((s1 - s0))" -v hz="$hz" 'BEGIN {
    printf "%d jobs in %.2f s: %.0f jobs/s; CPU per job: daemon %.0f us, server %.0f us\n", n, t1 - t0, n / (t1 - t0),
        d * 1e6 / hz / n, s * 1e6 / hz / n }'
echo "daemon context switches per job: $(awk -v a="$cs0" -v b="$cs1" -v n="$jobs" 'BEGIN {printf "%.3f", (b - a) / n}')"
psql "SELECT 'WAL: ' || wal_records || ' records, ' || wal_sync || ' flushes' FROM pg_stat_wal"
echo "statements (calls | server ms | rows | calls per job | statement):"
psql "SELECT calls, round(total_exec_time::numeric), rows, round(calls::numeric / $jobs, 3),
              left(regexp_replace(query, '\s+', ' ', 'g'), 80)
       FROM pg_stat_statements WHERE calls > 5 AND query NOT LIKE '%count(*) FROM shieldpool_jobs WHERE state = \$%'
       ORDER BY calls DESC LIMIT 10"
curl -s "localhost:$port/status" | python3 -c 'import json, sys; c = json.load(sys.stdin)["jobs"]["this_daemon"]; print("daemon: claim latency %s ms, ack latency %s ms (means)" % (c["claim_latency_ms"], c["ack_latency_ms"]))' || true
echo "daemon CPU by thread since its start (ms, all daemons):"
for t in $(printf '/proc/%s/task/* ' "${daemons[@]}"); do echo "$(awk '{print $14 + $15}' "$t/stat") $(cat "$t/comm")"; done \
    | awk -v hz="$hz" '{n = $1; $1 = ""; sub(/ [0-9]+$/, "", $0); c[$0] += n} END {for (k in c) if (c[k] > 0) printf "%8.0f %s\n", c[k] * 1000 / hz, k}' \
    | sort -rn | head -8
echo "daemon CPU by thread during the run (us per job, all daemons; compiler threads are the JIT):"
awk -v n="$jobs" -v hz="$hz" 'FNR == NR {a[$1] += $2; next} {b[$1] += $2}
    END {for (k in b) {d = b[k] - a[k]; if (d > 0) {printf "%8.1f %s\n", d * 1e6 / hz / n, k; if (k !~ /Compiler/) o += d}}
         printf "%8.1f (all but the JIT)\n", o * 1e6 / hz / n}' "$dir/threads0" "$dir/threads1" | sort -rn | head -8
echo "daemon log lines above INFO: $(cat "$dir"/daemon*.log | grep -Ec '"level":"(WARN|ERROR)"')"
cat "$dir"/daemon*.log | grep -E '"level":"(WARN|ERROR)"' | sed 's/.*"message":"\([^"]*\)".*/  \1/' | cut -c1-160 | sort | uniq -c | head -5
if [[ -n ${AUTO_EXPLAIN:-} ]]; then
    # why from log0: the enqueue's own slow statements came before the run
    tail -n +"$((log0 + 1))" "$dir/server.log" > "$dir/run.log"
    echo "plans slower than $AUTO_EXPLAIN ms during the run, by statement (count, slowest ms, statement):"
    awk '/LOG:  duration:/ {d = $6} /Query Text:/ {sub(/.*Query Text: /, ""); q = substr($0, 1, 70); n[q]++; if (d > m[q]) m[q] = d}
         END {for (q in n) printf "%6d %9.1f  %s\n", n[q], m[q], q}' "$dir/run.log" | sort -rn | head -6
    echo "the slowest plan of each (the first 40 lines):"
    awk '/LOG:  duration:/ {d = $6} /Query Text:/ {sub(/.*Query Text: /, ""); q = substr($0, 1, 70); if (d > m[q]) {m[q] = d; o[q] = NR}}
         END {for (q in o) print o[q]}' "$dir/run.log" | while read -r line; do
        sed -n "$((line - 1)),$((line + 40))p" "$dir/run.log" | awk 'NR > 1 && /LOG:  /{exit} {print}' | cut -c1-180
    done
fi
if [[ -n ${JFR:-} ]]; then
    for ((i = 0; i < nodes; i++)); do
        file=$JFR
        ((i > 0)) && file=${JFR%.jfr}-$i.jfr
        "$jdk_bin/jcmd" "${daemons[$i]}" JFR.dump name=diag filename="$file" > /dev/null || true
    done
fi
