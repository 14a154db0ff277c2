package io.shieldpool.jobs;

/**
 * What a node learns from a take or give of slots of a queue's cluster-wide concurrency limit
 * ({@link JobStore#takeSlots}, {@link JobStore#giveSlots}, {@link JobStore#lookAtSlots}).
 *
 * @param changed     slots granted (take) or given back (give) by this request; 0 for a look
 * @param held        slots this node holds after the request, as the database counts them
 * @param othersWant  slots the other live nodes still wait for
 * @param nodes       nodes that hold slots or wait for some, this one included
 * @param concurrency the queue's limit
 */
public record Slots(int changed, int held, int othersWant, int nodes, int concurrency) {

    /**
     * The most slots this node keeps while others wait: its share of the limit, at least one.
     * why at least one: with more nodes than slots, a node keeps the one it holds while it has
     * work; the waiting nodes get theirs in turn as slots are freed.
     */
    public int fairShare() {
        return Math.max(1, concurrency / Math.max(1, nodes));
    }
}
