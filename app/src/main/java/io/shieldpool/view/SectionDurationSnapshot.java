package io.shieldpool.view;


import java.util.Arrays;

/**
 * Section durations of a shard (or, summed, of the pool) at one moment.
 *
 * @param upperBoundsNanos the buckets' upper bounds (inclusive), ascending; shared, never modified
 * @param counts           sections per bucket (not cumulative); one more entry than the bounds, for
 *                         the sections longer than the last bound
 * @param sumNanos         total time of all counted sections
 */
public record SectionDurationSnapshot(long[] upperBoundsNanos, long[] counts, long sumNanos) {

    /** Upper bounds of the buckets, in nanoseconds; a last, unbounded bucket follows. */
    public static final long[] UPPER_BOUNDS_NANOS = {
            1_000_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L,
            500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L, 30_000_000_000L,
            60_000_000_000L, 120_000_000_000L, 300_000_000_000L, 600_000_000_000L};

    public static final SectionDurationSnapshot EMPTY = new SectionDurationSnapshot(
            UPPER_BOUNDS_NANOS, new long[UPPER_BOUNDS_NANOS.length + 1], 0);

    /** Sections counted. */
    public long count() {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        return total;
    }

    public SectionDurationSnapshot plus(SectionDurationSnapshot other) {
        long[] sum = Arrays.copyOf(counts, counts.length);
        for (int i = 0; i < sum.length; i++) {
            sum[i] += other.counts[i];
        }
        return new SectionDurationSnapshot(upperBoundsNanos, sum, sumNanos + other.sumNanos);
    }
}
