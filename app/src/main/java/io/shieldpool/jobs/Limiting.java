package io.shieldpool.jobs;

/**
 * How a store keeps a queue's cluster-wide limits ({@link JobStore#limiting}): the one answer the
 * daemon's feeds and the store's own claims and acks both follow.
 */
public enum Limiting {

    /** No cluster-wide limit: claims and acks go their fastest way (batched, grouped). */
    NONE,

    /**
     * A concurrency and no rate: the limit is held by slots the nodes take and give back
     * ({@link JobStore#takeSlots}, {@link JobStore#giveSlots}); the queue's jobs are claimed and
     * acked as those of a queue without limits.
     */
    SLOTS,

    /**
     * A rate and no concurrency: each claim takes the queue's lock and spends a token per job it
     * claims; tokens come back with time only.
     */
    RATE,

    /**
     * A rate and a concurrency: claimed as {@link #RATE}, and a claimed job counts against the
     * concurrency (as a running row) from its claim until its ack, which frees it.
     */
    RATE_AND_CONCURRENCY;

    /** The way a queue with this concurrency (0: none) and rate per second (0: none) is limited. */
    public static Limiting of(int concurrency, double rate) {
        if (rate > 0) {
            return concurrency > 0 ? RATE_AND_CONCURRENCY : RATE;
        }
        return concurrency > 0 ? SLOTS : NONE;
    }

    /** Claims are the limits' own: under the queue's lock, tokens spent at the claim, acks written one by one. */
    public boolean claimsLimited() {
        return this == RATE || this == RATE_AND_CONCURRENCY;
    }

    /** The concurrency is held by slots ({@link #SLOTS}). */
    public boolean slotsHeld() {
        return this == SLOTS;
    }

    /** A claimed job holds a share of the concurrency until its ack: the ack frees it ({@link #RATE_AND_CONCURRENCY}). */
    public boolean acksFreeSlots() {
        return this == RATE_AND_CONCURRENCY;
    }
}
