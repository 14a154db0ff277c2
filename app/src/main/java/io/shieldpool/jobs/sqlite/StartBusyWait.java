package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.StoreWait;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.BusyHandler;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * SQLite's busy timeout while a daemon opens its store, made to end at a stop request: each
 * statement that meets another process's lock waits up to the busy timeout, as before, but a
 * SIGTERM or SIGINT ({@link StoreWait#stopRequested}) ends the wait within {@link #STEP}. why: the
 * built-in busy timeout sleeps inside SQLite, deaf to signals, so a daemon stopped while a sqlite3
 * shell held the file went on waiting its 10 s and exited 69 instead of 0 with nothing started.
 */
final class StartBusyWait extends BusyHandler {

    private static final Logger log = LoggerFactory.getLogger(StartBusyWait.class);

    /** How long one sleep of the wait lasts: the most a stop request waits to be seen. */
    static final Duration STEP = Duration.ofMillis(20);

    private final StoreWait wait;
    private final String path;
    private final long timeoutNanos;
    private long episodeBegan;
    private boolean told;

    private StartBusyWait(StoreWait wait, String path, Duration busyTimeout) {
        this.wait = wait;
        this.path = path;
        this.timeoutNanos = busyTimeout.toNanos();
    }

    /** Installs the wait on {@code connection} (in place of its busy timeout) when {@code wait} is enabled. */
    static void install(Connection connection, StoreWait wait, String path, Duration busyTimeout) throws SQLException {
        if (wait.enabled()) {
            BusyHandler.setHandler(connection, new StartBusyWait(wait, path, busyTimeout));
        }
    }

    /** Puts the plain busy timeout back, for the store's life after the start. */
    static void remove(Connection connection, StoreWait wait, Duration busyTimeout) throws SQLException {
        if (wait.enabled()) {
            BusyHandler.clearHandler(connection);
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA busy_timeout = " + Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
            }
        }
    }

    /** @return non-zero to try the lock again, 0 to give up (the statement fails with SQLITE_BUSY) */
    @Override
    protected int callback(int previousCalls) {
        long now = System.nanoTime();
        if (previousCalls == 0) {
            episodeBegan = now;
            if (!told) {
                told = true;
                // why: the daemon sat silent up to the busy timeout, then exited 69; the journal
                // now says at once what it waits for, as for a PostgreSQL server that does not answer.
                log.atWarn().addKeyValue("event", "jobs.store-waiting").addKeyValue("path", path)
                        .addKeyValue("error", "locked by another process")
                        .log("job store {} is locked by another process (an open write transaction: a sqlite3 shell, a backup?);"
                                + " waiting up to {} ms for it, not ready until then", path, timeoutNanos / 1_000_000);
                // why: from here on a SIGTERM is taken as the end of the wait, not queued for a pool yet to start
                wait.waiting(path, "locked by another process");
            }
        }
        long left = timeoutNanos - (now - episodeBegan);
        if (left <= 0 || wait.stopRequested()) {
            return 0;
        }
        try {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, STEP.toNanos()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        return wait.stopRequested() ? 0 : 1;
    }
}
