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
 * @param wakeCheck   how often a daemon looks whether another process (the CLI) committed, to
 *                    claim its jobs at once instead of at the next poll, right after activity (a
 *                    request, or another process's commit)
 * @param idleWakeCheck the same once the store has been idle: the interval doubles from
 *                    {@code wakeCheck} up to this. why: each look costs a thread wake-up and a
 *                    read transaction (~0.15 ms of CPU here); 50 a second were 1 % of a core
 * @param busyTimeout how long a statement waits for another process's write lock before failing
 */
public record SqliteSettings(Path path, Synchronous synchronous, Duration wakeCheck, Duration idleWakeCheck,
                             Duration busyTimeout) {

    /** PRAGMA synchronous values the store offers. */
    public enum Synchronous { FULL, NORMAL }

    public SqliteSettings {
        Objects.requireNonNull(path);
        Objects.requireNonNull(synchronous);
        if (wakeCheck.isNegative() || wakeCheck.isZero() || idleWakeCheck.compareTo(wakeCheck) < 0
                || busyTimeout.isNegative()) {
            throw new IllegalArgumentException("wake-check " + wakeCheck + ", idle wake-check " + idleWakeCheck
                    + ", busy-timeout " + busyTimeout);
        }
    }

    /** Defaults for a file: FULL, wake checks every 20 ms after activity and 100 ms when idle, 10 s busy timeout. */
    public static SqliteSettings of(Path path) {
        return new SqliteSettings(path, Synchronous.FULL, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(10));
    }

    public SqliteSettings withSynchronous(Synchronous value) {
        return new SqliteSettings(path, value, wakeCheck, idleWakeCheck, busyTimeout);
    }
}
