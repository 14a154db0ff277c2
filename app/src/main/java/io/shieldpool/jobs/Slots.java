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
     * The most slots this node keeps while others wait: its share of the limit, rounded down.
     * why down, and 0 with more nodes than slots: what is left over (and every slot, when the
     * nodes outnumber them) then goes round: each holder gives its slot back when its section
     * ends, and the node that waited longest takes it, as with one slot per section in turn.
     */
    public int fairShare() {
        return concurrency / Math.max(1, nodes);
    }
}
