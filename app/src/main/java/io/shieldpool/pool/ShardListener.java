package io.shieldpool.pool;

/**
 * What a shard tells the supervisor. Called on the shard's thread; implementations hand the news
 * to their own context and return at once.
 */
interface ShardListener {

    /** The shard's gate is closed and its last section in flight has ended. */
    void drained(Shard shard);

    /** A worker's loop died (an Error escaped its work); the supervisor should replace it. */
    void workerDied(Shard shard, long workerId, Throwable cause);
}
