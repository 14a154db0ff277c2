package io.shieldpool.jobs;

/**
 * A running job whose owner was gone, made ready again (or dead, when that attempt was its last).
 *
 * @param id      the job
 * @param attempt the attempt that was cut
 * @param owner   the owner that held it ({@link JobOwner#id()})
 * @param dead    true when the cut attempt was its last, so it is dead now
 */
public record RecoveredJob(long id, int attempt, String owner, boolean dead) {

    /** The pid in {@link #owner}, -1 if none. */
    public long ownerPid() {
        return JobOwner.pidOf(owner);
    }
}
