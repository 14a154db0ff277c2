package io.shieldpool.jobs.sqlite;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the SQLite store opens its file.
 *
 * @param path        the database file (its -wal and -shm files, and the daemon's .lock, sit beside it)
 * @param synchronous FULL (default): a commit is on disk when it returns, so an acknowledged
 *                    enqueue survives a power cut; NORMAL: faster, and a power cut (not a crash)
 *                    may lose the last commits
 * @param wakeCheck   how often an idle daemon looks whether another process (the CLI) committed,
 *                    to claim its jobs at once instead of at the next poll; cheap (a read of the
 *                    WAL index in shared memory)
 * @param busyTimeout how long a statement waits for another process's write lock before failing
 */
public record SqliteSettings(Path path, Synchronous synchronous, Duration wakeCheck, Duration busyTimeout) {

    /** PRAGMA synchronous values the store offers. */
    public enum Synchronous { FULL, NORMAL }

    public SqliteSettings {
        Objects.requireNonNull(path);
        Objects.requireNonNull(synchronous);
        if (wakeCheck.isNegative() || wakeCheck.isZero() || busyTimeout.isNegative()) {
            throw new IllegalArgumentException("wake-check " + wakeCheck + ", busy-timeout " + busyTimeout);
        }
    }

    /** Defaults for a file: FULL, 20 ms wake checks, 10 s busy timeout. */
    public static SqliteSettings of(Path path) {
        return new SqliteSettings(path, Synchronous.FULL, Duration.ofMillis(20), Duration.ofSeconds(10));
    }

    public SqliteSettings withSynchronous(Synchronous value) {
        return new SqliteSettings(path, value, wakeCheck, busyTimeout);
    }
}
