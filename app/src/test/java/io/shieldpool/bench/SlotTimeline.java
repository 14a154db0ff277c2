package io.shieldpool.bench;

import io.shieldpool.e2e.SectionIntervals;
import io.shieldpool.jobs.postgresql.PostgresCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a job's time goes between its claim and its ack (C1 with {@code -Dc1.where=true}):
 * triggers on the bench's own database record, per attempt, when its row became running (the
 * claim) and when it left running (the ack), in database time ({@code clock_timestamp()} at the
 * row change, before its commit). Beside the sections' own start and end lines (same host, same
 * clock), each attempt's time as a running row splits into: claimed but not started (claim to
 * start: the commit, the answer, the buffer, the wait for a slot), running (start to end), and
 * ended but not acked (end to the ack's row change: the ack group, the store's event loop, the
 * statement). Since slots (schema 5) a running row is no slot: the rows' time may exceed the
 * limit's, and only the sections' own intervals say how the slots were used. The triggers cost
 * the server a little per row: a run with them is a diagnosis, not the figure.
 */
final class SlotTimeline {

    private SlotTimeline() {
    }

    static void install(PostgresCluster cluster, String database) throws IOException, InterruptedException {
        cluster.psql(database, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        cluster.restart();
        cluster.psql(database, """
                CREATE EXTENSION pg_stat_statements;
                CREATE UNLOGGED TABLE bench_slot_events (id bigint, attempt int, kind char, at timestamptz);
                CREATE FUNCTION bench_slot_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP = 'UPDATE' AND NEW.state = 'running' AND OLD.state <> 'running' THEN
                    INSERT INTO bench_slot_events VALUES (NEW.id, NEW.attempt, 'C', clock_timestamp());
                  ELSIF TG_OP = 'DELETE' AND OLD.state = 'running' THEN
                    INSERT INTO bench_slot_events VALUES (OLD.id, OLD.attempt, 'A', clock_timestamp());
                  ELSIF TG_OP = 'UPDATE' AND OLD.state = 'running' AND NEW.state <> 'running' THEN
                    INSERT INTO bench_slot_events VALUES (OLD.id, OLD.attempt, 'R', clock_timestamp());
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
                + "(extract(epoch FROM at) * 1000000)::bigint FROM bench_slot_events");
        Files.writeString(events, rows);
        Map<String, long[]> byAttempt = new HashMap<>(); // claim us, ack us
        for (String line : rows.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 4) {
                continue;
            }
            long[] t = byAttempt.computeIfAbsent(f[0] + "/" + f[1], k -> new long[]{-1, -1});
            long micros = Long.parseLong(f[3]);
            if (f[2].equals("C")) {
                t[0] = micros * 1000;
            } else {
                t[1] = micros * 1000;
            }
        }
        List<Long> pre = new ArrayList<>();
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
            pre.add(i.start() - t[0]);
            post.add(t[1] - i.end());
            held += clip(t[0], t[1], from, to);
            claimedNotStarted += clip(t[0], i.start(), from, to);
            running += clip(i.start(), i.end(), from, to);
            endedNotAcked += clip(i.end(), t[1], from, to);
        }
        double slotNanos = (double) limit * (to - from);
        System.out.printf(Locale.ROOT, "C1 where the jobs' time goes (%d attempts started in the window, events in %s):%n"
                        + "  rows running (claim to ack, database time): %.1f %% of %d x window%n"
                        + "  claimed, not started: %.1f %%   running: %.1f %%   ended, not acked: %.1f %%%n"
                        + "  claim -> section start (%d): median %.2f ms, p90 %.2f ms%n"
                        + "  section end -> ack (%d): median %.2f ms, p90 %.2f ms%n",
                matched, events, 100 * held / slotNanos, limit, 100 * claimedNotStarted / slotNanos,
                100 * running / slotNanos, 100 * endedNotAcked / slotNanos,
                pre.size(), pct(pre, 50), pct(pre, 90),
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
