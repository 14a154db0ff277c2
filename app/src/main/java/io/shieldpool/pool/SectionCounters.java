package io.shieldpool.pool;

/**
 * Section counts of one shard. Written only on the shard's thread (plain fields: the hot path
 * pays no fence); read exactly through {@link Shard#snapshot()} on that thread.
 */
final class SectionCounters {
    long started;
    long completed;
    long failed;
    long timedOut;
    long abandoned;
}
