package io.shieldpool.worker;

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

    public static final SectionDurationSnapshot EMPTY = new SectionDurationSnapshot(
            SectionDurations.UPPER_BOUNDS_NANOS, new long[SectionDurations.UPPER_BOUNDS_NANOS.length + 1], 0);

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
