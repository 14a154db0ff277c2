package io.shieldpool.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The sections' own record of when they ran ({@code S|E job attempt node epoch-nanos} lines, as
 * {@link RecordingPlugin} and the exec sections of the cluster tests write them), and what a
 * cluster-wide limit is judged by: the most sections open at one instant, and slot use (the time
 * integral of open sections over a window, divided by limit x window).
 */
public final class SectionIntervals {

    /** One attempt's section: start and end in epoch nanoseconds (end -1: it never ended). */
    public record Interval(long job, int attempt, String node, long start, long end) {
    }

    private final List<Interval> intervals;

    private SectionIntervals(List<Interval> intervals) {
        this.intervals = List.copyOf(intervals);
    }

    /** Reads every file given (missing ones count as empty). */
    public static SectionIntervals read(List<Path> files) throws IOException {
        Map<String, long[]> spans = new HashMap<>();
        Map<String, Interval> keys = new HashMap<>();
        for (Path file : files) {
            if (!Files.exists(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split(" ");
                if (f.length < 5) {
                    continue; // a line torn by a SIGKILL
                }
                String key = f[1] + "/" + f[2];
                long[] span = spans.computeIfAbsent(key, k -> new long[]{-1, -1});
                span[f[0].equals("S") ? 0 : 1] = Long.parseLong(f[4]);
                keys.putIfAbsent(key, new Interval(Long.parseLong(f[1]), Integer.parseInt(f[2]), f[3], -1, -1));
            }
        }
        List<Interval> all = new ArrayList<>();
        spans.forEach((key, span) -> {
            Interval k = keys.get(key);
            if (span[0] >= 0) {
                all.add(new Interval(k.job(), k.attempt(), k.node(), span[0], span[1]));
            }
        });
        return new SectionIntervals(all);
    }

    public List<Interval> all() {
        return intervals;
    }

    /** Section starts recorded. */
    public int starts() {
        return intervals.size();
    }

    /**
     * The most sections open at one instant; a section with no end counts as open until
     * {@code openUntil} (when its daemon was killed, or the end of the run).
     */
    public long mostAtOnce(long openUntil) {
        return mostAtOnce(i -> openUntil);
    }

    /** The most sections open at one instant; a section with no end counts as open until {@code openUntil} of it. */
    public long mostAtOnce(ToLongFunction<Interval> openUntil) {
        long open = 0;
        long most = 0;
        for (long[] edge : edges(openUntil)) {
            open += edge[1];
            most = Math.max(most, open);
        }
        return most;
    }

    /**
     * The steady part of a run: from the moment every node had begun its first section plus
     * {@code margin}, to the moment the first node began its last one minus {@code margin} (all
     * nodes running, the queue not yet drained). Returns [from, to] in epoch nanoseconds.
     */
    public long[] steadyWindow(long marginNanos) {
        Map<String, long[]> perNode = new HashMap<>();
        for (Interval i : intervals) {
            long[] firstLast = perNode.computeIfAbsent(i.node(), n -> new long[]{Long.MAX_VALUE, Long.MIN_VALUE});
            firstLast[0] = Math.min(firstLast[0], i.start());
            firstLast[1] = Math.max(firstLast[1], i.start());
        }
        long from = perNode.values().stream().mapToLong(v -> v[0]).max().orElse(0) + marginNanos;
        long to = perNode.values().stream().mapToLong(v -> v[1]).min().orElse(0) - marginNanos;
        return new long[]{from, to};
    }

    /** Time integral of open sections over [from, to], divided by limit x (to - from). */
    public double slotUse(int limit, long from, long to) {
        if (to <= from) {
            return Double.NaN;
        }
        double busy = 0;
        for (Interval i : intervals) {
            long end = i.end() < 0 ? to : i.end();
            long s = Math.max(from, i.start());
            long e = Math.min(to, end);
            if (e > s) {
                busy += e - s;
            }
        }
        return busy / ((double) limit * (to - from));
    }

    private List<long[]> edges(ToLongFunction<Interval> openUntil) {
        List<long[]> edges = new ArrayList<>();
        for (Interval i : intervals) {
            edges.add(new long[]{i.start(), +1});
            edges.add(new long[]{i.end() < 0 ? openUntil.applyAsLong(i) : i.end(), -1});
        }
        // why ends before starts at the same instant: a slot freed and taken in the same nanosecond is not an overlap.
        edges.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        return edges;
    }
}
