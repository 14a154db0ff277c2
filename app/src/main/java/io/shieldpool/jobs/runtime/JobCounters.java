package io.shieldpool.jobs.runtime;



import java.util.concurrent.atomic.LongAdder;

/**
 * What happened to jobs in this run of the daemon, for metrics and status. Updated from the
 * shards' threads and the store's; read from anywhere.
 */
public final class JobCounters {

    public final LongAdder claimed = new LongAdder();
    public final LongAdder done = new LongAdder();
    public final LongAdder failed = new LongAdder();
    public final LongAdder dead = new LongAdder();
    /** Given back: claimed but not started at a stop (uncounted), or cut at the grace cap (counted). */
    public final LongAdder released = new LongAdder();
    /** Found running at start under a dead owner and made ready (or dead) again. */
    public final LongAdder recovered = new LongAdder();
    /** Acks and failures refused because the attempt no longer held its job (fencing). */
    public final LongAdder fenced = new LongAdder();
    /** Store requests that failed (the job stays running and is recovered at the next start). */
    public final LongAdder storeErrors = new LongAdder();
    public final LongAdder claimNanos = new LongAdder();
    public final LongAdder claims = new LongAdder();
    public final LongAdder ackNanos = new LongAdder();
    public final LongAdder acks = new LongAdder();
}
