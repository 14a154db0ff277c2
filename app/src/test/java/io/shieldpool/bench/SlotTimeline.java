package io.shieldpool.bench;

import io.shieldpool.e2e.SectionIntervals;
import io.shieldpool.jobs.postgresql.PostgresCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a cluster slot's time goes (C1 with {@code -Dc1.where=true}): triggers on the bench's own
 * database record, per attempt, when its row became running (the claim) and when it left running
 * (the ack), in database time ({@code clock_timestamp()} at the row change, before its commit),
 * with the transaction's id, so a claim made by an ack's statement (a handoff) is told from a
 * claim of its own. Beside the sections' own start and end lines (same host, same clock), each
 * attempt's slot time splits into: claimed but not started (claim to start: the commit, the answer
 * back to the daemon, the shard, the worker), running (start to end), and ended but not acked
 * (end to the ack's row change: the worker, the store's event loop, the statement up to that
 * row). The triggers cost the server a little per row: a run with them is a diagnosis, not the
 * figure.
 */
final class SlotTimeline {

    private SlotTimeline() {
    }

    static void install(PostgresCluster cluster, String database) throws IOException, InterruptedException {
        cluster.psql(database, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        cluster.restart();
        cluster.psql(database, """
                CREATE EXTENSION pg_stat_statements;
                CREATE UNLOGGED TABLE bench_slot_events (id bigint, attempt int, kind char, at timestamptz, tx bigint);
                CREATE FUNCTION bench_slot_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP = 'UPDATE' AND NEW.state = 'running' AND OLD.state <> 'running' THEN
                    INSERT INTO bench_slot_events VALUES (NEW.id, NEW.attempt, 'C', clock_timestamp(), txid_current());
                  ELSIF TG_OP = 'DELETE' AND OLD.state = 'running' THEN
                    INSERT INTO bench_slot_events VALUES (OLD.id, OLD.attempt, 'A', clock_timestamp(), txid_current());
                  ELSIF TG_OP = 'UPDATE' AND OLD.state = 'running' AND NEW.state <> 'running' THEN
                    INSERT INTO bench_slot_events VALUES (OLD.id, OLD.attempt, 'R', clock_timestamp(), txid_current());
                  END IF;
                  RETURN NULL;
                END $$;
                CREATE TRIGGER bench_slot_event AFTER UPDATE OR DELETE ON shieldpool_jobs
                  FOR EACH ROW EXECUTE FUNCTION bench_slot_event();
                """);
    }

    /** Prints the split of slot time over [from, to] (epoch nanos). */
    static void report(PostgresCluster cluster, String database, Path dir, SectionIntervals sections, int limit,
                       long from, long to) throws IOException, InterruptedException {
        System.out.println("C1 statements by server time (calls, mean ms, total s):");
        System.out.println(cluster.psql(database, "SELECT calls || ' ' || round(mean_exec_time::numeric, 3) || ' '"
                + " || round((total_exec_time / 1000)::numeric, 1) || ' ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90)"
                + " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8"));
        Path events = dir.resolve("slot-events.txt");
        String rows = cluster.psql(database, "SELECT id || ' ' || attempt || ' ' || kind || ' ' || "
                + "(extract(epoch FROM at) * 1000000)::bigint || ' ' || tx FROM bench_slot_events");
        Files.writeString(events, rows);
        Map<String, long[]> byAttempt = new HashMap<>(); // claim us, ack us, claim tx
        Set<Long> ackTxs = new HashSet<>();
        for (String line : rows.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 5) {
                continue;
            }
            long[] t = byAttempt.computeIfAbsent(f[0] + "/" + f[1], k -> new long[]{-1, -1, -1});
            long micros = Long.parseLong(f[3]);
            long tx = Long.parseLong(f[4]);
            if (f[2].equals("C")) {
                t[0] = micros * 1000;
                t[2] = tx;
            } else {
                t[1] = micros * 1000;
                if (f[2].equals("A")) {
                    ackTxs.add(tx);
                }
            }
        }
        List<Long> preHandoff = new ArrayList<>();
        List<Long> preClaim = new ArrayList<>();
        List<Long> post = new ArrayList<>();
        double held = 0;
        double claimedNotStarted = 0;
        double running = 0;
        double endedNotAcked = 0;
        int matched = 0;
        for (SectionIntervals.Interval i : sections.all()) {
            long[] t = byAttempt.get(i.job() + "/" + i.attempt());
            if (t == null || t[0] < 0 || t[1] < 0 || i.end() < 0 || i.start() < from || i.start() >= to) {
                continue;
            }
            matched++;
            (ackTxs.contains(t[2]) ? preHandoff : preClaim).add(i.start() - t[0]);
            post.add(t[1] - i.end());
            held += clip(t[0], t[1], from, to);
            claimedNotStarted += clip(t[0], i.start(), from, to);
            running += clip(i.start(), i.end(), from, to);
            endedNotAcked += clip(i.end(), t[1], from, to);
        }
        double slotNanos = (double) limit * (to - from);
        System.out.printf(Locale.ROOT, "C1 where the slots' time goes (%d attempts started in the window, events in %s):%n"
                        + "  slots held (claim to ack, database time): %.1f %% of %d x window%n"
                        + "  claimed, not started: %.1f %%   running: %.1f %%   ended, not acked: %.1f %%%n"
                        + "  claim -> section start, claimed by a handoff (%d): median %.2f ms, p90 %.2f ms%n"
                        + "  claim -> section start, claimed by a claim (%d): median %.2f ms, p90 %.2f ms%n"
                        + "  section end -> ack (%d): median %.2f ms, p90 %.2f ms%n",
                matched, events, 100 * held / slotNanos, limit, 100 * claimedNotStarted / slotNanos,
                100 * running / slotNanos, 100 * endedNotAcked / slotNanos,
                preHandoff.size(), pct(preHandoff, 50), pct(preHandoff, 90),
                preClaim.size(), pct(preClaim, 50), pct(preClaim, 90),
                post.size(), pct(post, 50), pct(post, 90));
    }

    private static double clip(long s, long e, long from, long to) {
        return Math.max(0, Math.min(e, to) - Math.max(s, from));
    }

    private static double pct(List<Long> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
    }
}
