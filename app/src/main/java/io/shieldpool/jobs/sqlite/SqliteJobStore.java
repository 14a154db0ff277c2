package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.Enqueued;
import io.shieldpool.jobs.FailOutcome;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.SqlFile;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.QueueStats;
import io.shieldpool.jobs.RecoveredJob;
import io.shieldpool.jobs.StoreWait;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The embedded job store: one SQLite file in WAL mode, one connection, one thread
 * ({@link StoreThread}) that runs every statement. The statements are in {@code statements.sql},
 * the schema in {@code schema.sql}, both next to this class.
 *
 * <p>Two ways to open it. {@link #openForDaemon} takes the single-instance lock (a second daemon
 * on the same file is refused with {@link JobStoreException.Kind#IN_USE}) and is the only one that
 * claims. {@link #openForTool} (the {@code enqueue} and {@code jobs} commands) takes no lock: SQLite's
 * own locking serialises its writes with the daemon's, and its reads never block the daemon (WAL).
 */
public final class SqliteJobStore implements JobStore {

    private static final Logger log = LoggerFactory.getLogger(SqliteJobStore.class);

    /** The newest schema version this build knows ({@code schema.sql}'s last block). */
    static final int SCHEMA_VERSION = 1;
    /** Rows one purge transaction deletes at most, so a big purge never holds the lock for long. */
    private static final int PURGE_CHUNK = 5_000;
    /** How often a daemon's store looks whether its path still names the file it opened (one stat). */
    static final long FILE_CHECK_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private static final Map<String, String> SQL = SqlFile.load(SqliteJobStore.class, "statements.sql");

    private final SqliteSettings settings;
    private final JobOwner owner;
    private final Clock clock;
    private final InstanceLock lock;
    private final Connection connection;
    private final StoreThread thread;
    private final Map<String, PreparedStatement> prepared = new HashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /** PRAGMA data_version, prepared once: the idle check runs it many times a second. */
    private final PreparedStatement dataVersionQuery;
    private long dataVersion;
    /** The file the daemon opened; empty for a tool (it lives for one command) or without inodes. */
    private final Optional<FileIdentity> identity;
    private long lastFileCheckNanos = System.nanoTime();
    /** Why the store is lost (its file removed or replaced), once found; never reset. */
    private volatile String lost;

    private SqliteJobStore(SqliteSettings settings, JobOwner owner, Clock clock, boolean daemon, StoreWait wait) {
        this.settings = settings;
        this.owner = owner;
        this.clock = clock;
        Path path = settings.path();
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.sqlite.path: " + path
                    + " (expected: a file in an existing directory; " + dir + " does not exist)");
        }
        this.lock = daemon ? InstanceLock.acquire(path) : null;
        try {
            this.connection = connect(settings, wait);
            this.identity = daemon ? FileIdentity.of(path) : Optional.empty();
            migrate(connection, path);
            if (daemon) {
                requireWritable(connection);
            }
            StartBusyWait.remove(connection, wait, settings.busyTimeout());
            this.dataVersionQuery = connection.prepareStatement("PRAGMA data_version");
            this.dataVersion = readDataVersion();
            this.thread = new StoreThread("shieldpool-jobs-sqlite", connection, this::idleCheck,
                    settings.wakeCheck().toNanos(), settings.idleWakeCheck().toNanos());
        } catch (SQLException e) {
            if (lock != null) {
                lock.close();
            }
            int code = e.getErrorCode();
            if (code == SQLiteErrorCode.SQLITE_BUSY.code || code == SQLiteErrorCode.SQLITE_LOCKED.code) {
                // why IN_USE (exit 69): a lock held by another process (a sqlite3 shell's open
                // transaction, a backup) is let go; as a config error (78) systemd's
                // RestartPreventExitStatus= kept the daemon down for good.
                throw new JobStoreException(JobStoreException.Kind.IN_USE, "the job store " + path
                        + " is locked by another process (a write transaction held past the busy timeout of "
                        + settings.busyTimeout().toMillis() + " ms: a sqlite3 shell, a backup?); try again once it is released", e);
            }
            String why = AccessProblem.of(path).orElse(e.getErrorCode() == SQLiteErrorCode.SQLITE_READONLY.code
                    ? "it is read-only to this process (a read-only file system?)" : e.getMessage());
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "cannot open the job store " + path + ": " + why, e);
        } catch (RuntimeException e) {
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
        thread.start();
    }

    /**
     * Opens the store for a daemon: takes the single-instance lock, creates or migrates the schema.
     * Blocking: call off the event loop.
     *
     * @throws JobStoreException IN_USE when another daemon holds the file, UNUSABLE when it cannot be opened
     */
    public static SqliteJobStore openForDaemon(SqliteSettings settings, JobOwner owner, Clock clock) {
        return openForDaemon(settings, owner, clock, StoreWait.NEVER);
    }

    /**
     * {@link #openForDaemon(SqliteSettings, JobOwner, Clock)}, and while another process holds the
     * file's lock (within the busy timeout) a stop request that {@code wait} reports ends the wait
     * at once: the open then fails as it would at the timeout, and the caller sees the stop.
     */
    public static SqliteJobStore openForDaemon(SqliteSettings settings, JobOwner owner, Clock clock, StoreWait wait) {
        return new SqliteJobStore(settings, owner, clock, true, wait);
    }

    /** Opens the store for a command-line tool: no lock, never claims. Blocking. */
    public static SqliteJobStore openForTool(SqliteSettings settings, Clock clock) {
        return new SqliteJobStore(settings, JobOwner.thisProcess(), clock, false, StoreWait.NEVER);
    }

    private static Connection connect(SqliteSettings settings, StoreWait wait) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, settings.busyTimeout().toMillis()));
        config.enforceForeignKeys(false);
        Connection connection = DriverManager.getConnection("jdbc:sqlite:" + settings.path(), config.toProperties());
        // why: explicit BEGIN IMMEDIATE / COMMIT statements; the driver's own transaction mode
        // would hold a transaction open between commits (and with it, other processes' writes).
        connection.setAutoCommit(true);
        try {
            // why journal_mode and synchronous here, not in the config: the driver would set them while
            // connecting, before the start-up busy wait is installed, and both read the schema, which
            // takes a lock another process may hold.
            StartBusyWait.install(connection, wait, settings.path().toString(), settings.busyTimeout());
            try (Statement s = connection.createStatement()) {
                try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
                    String mode = rs.next() ? rs.getString(1) : "?";
                    if (!mode.equalsIgnoreCase("wal")) {
                        throw new SQLException("journal_mode is " + mode + ", WAL could not be set (a read-only file or directory?)");
                    }
                }
                s.execute("PRAGMA synchronous = " + settings.synchronous().name());
            }
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    private static void migrate(Connection connection, Path path) throws SQLException {
        Map<String, String> schema = SqlFile.load(SqliteJobStore.class, "schema.sql");
        try (Statement s = connection.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                int version;
                try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "the job store " + path
                            + " has schema version " + version + ", newer than this shieldpool knows ("
                            + SCHEMA_VERSION + "): run the newer shieldpool, or point shieldpool.jobs.sqlite.path elsewhere");
                }
                for (int next = version + 1; next <= SCHEMA_VERSION; next++) {
                    for (String statement : schema.get(Integer.toString(next)).split(";\\s*\n")) {
                        if (!statement.isBlank()) {
                            s.execute(statement);
                        }
                    }
                    s.execute("PRAGMA user_version = " + next);
                    log.atInfo().addKeyValue("event", "jobs.schema").addKeyValue("path", path.toString())
                            .addKeyValue("version", next).log("job store {}: schema version {}", path, next);
                }
                s.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                s.execute("ROLLBACK");
                throw e;
            }
        }
    }

    /**
     * Fails with SQLITE_READONLY when this process may not write the store. why: SQLite opens a
     * file it may not write read-only, without a word, and reads still work: a daemon on it said
     * ready, then failed every claim ("statement is not executing"). A write rolled back (the
     * header's user_version set to itself) finds it out at the start.
     */
    private static void requireWritable(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
            } finally {
                s.execute("ROLLBACK");
            }
        }
    }

    /** Store thread only: a cached prepared statement. */
    private PreparedStatement statement(String name) throws SQLException {
        PreparedStatement statement = prepared.get(name);
        if (statement == null) {
            String sql = SQL.get(name);
            if (sql == null) {
                throw new IllegalStateException("no statement named " + name);
            }
            statement = connection.prepareStatement(sql);
            prepared.put(name, statement);
        }
        return statement;
    }

    /** Store thread, idle: the file's identity (once a second), then other writers. */
    private boolean idleCheck() {
        if (identity.isPresent() && lost == null && System.nanoTime() - lastFileCheckNanos >= FILE_CHECK_NANOS) {
            lastFileCheckNanos = System.nanoTime();
            identity.get().change().ifPresent(this::fileGone);
        }
        return checkForOtherWriters();
    }

    /**
     * The path no longer names the open file. why go on claiming from it: the jobs in it were
     * acknowledged as durable, and this daemon is now the only one that can still run them (a
     * restart opens the path anew); refusing enqueues stops the loss from growing.
     */
    private void fileGone(String what) {
        Path path = settings.path();
        lost = "its file " + path + " " + what + " while the daemon ran; enqueues are refused until a restart opens the path again";
        log.atError().addKeyValue("event", "jobs.store-file-gone").addKeyValue("path", path.toString())
                .addKeyValue("change", what)
                .log("job store {} {} while the daemon ran: the open file serves the jobs it holds (claims and acks go on),"
                        + " but nothing written to it outlives the stop; enqueues are refused and /readyz is 503;"
                        + " once GET /jobs/stats shows nothing ready or running, put the path back and restart", path, what);
    }

    @Override
    public Optional<String> lost() {
        return Optional.ofNullable(lost);
    }

    /**
     * Store thread, idle: fires the listeners when another connection committed since the last look.
     *
     * @return whether one had
     */
    private boolean checkForOtherWriters() {
        if (listeners.isEmpty()) {
            return false;
        }
        try {
            long version = readDataVersion();
            if (version != dataVersion) {
                dataVersion = version;
                fireListeners();
                return true;
            }
        } catch (SQLException e) {
            log.atDebug().addKeyValue("event", "jobs.problem")
                .log("PRAGMA data_version: {}", e.toString());
        }
        return false;
    }

    /** Changes whenever another connection (another process) has committed; our own commits leave it. */
    private long readDataVersion() throws SQLException {
        try (ResultSet rs = dataVersionQuery.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private void fireListeners() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("event", "jobs.problem")
                .log("job store listener failed: {}", e.toString());
            }
        }
    }

    /** Statements run on the store thread inside its transaction; any ResultSet closed before returning. */
    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in a write transaction (grouped with the other requests waiting). */
    private <T> Future<T> write(Work<T> work) {
        return thread.submit(new StoreThread.Request<>(true) {
            @Override
            T run(Connection c) throws SQLException {
                return work.run();
            }
        });
    }

    /** Runs {@code work} in a read transaction: a snapshot, no write lock. */
    private <T> Future<T> read(Work<T> work) {
        return thread.submit(new StoreThread.Request<>(false) {
            @Override
            T run(Connection c) throws SQLException {
                return work.run();
            }
        });
    }

    /**
     * A write that may make jobs claimable: once it has committed, and if {@code wakes} says so of
     * its result, the listeners (the daemon's idle feeds) hear of it before the caller does.
     */
    private <T> Future<T> writeThenWake(Work<T> work, java.util.function.Predicate<T> wakes) {
        return thread.submit(new StoreThread.Request<>(true) {
            @Override
            T run(Connection c) throws SQLException {
                return work.run();
            }

            @Override
            void committed() {
                if (wakes.test(result)) {
                    fireListeners();
                }
            }
        });
    }

    private long now() {
        return clock.millis();
    }

    @Override
    public JobOwner owner() {
        return owner;
    }

    /** One daemon at a time holds the file's lock. */
    @Override
    public boolean shared() {
        return false;
    }

    /** why 2: a claim is a local transaction, cheap to make again; more only waits in the buffer. */
    @Override
    public int claimsPerWorker() {
        return 2;
    }

    /** The file this store uses. */
    public Path path() {
        return settings.path();
    }

    @Override
    public Future<List<Enqueued>> enqueue(List<NewJob> jobs) {
        String gone = lost;
        if (gone != null) {
            return Future.failedFuture(new JobStoreException(JobStoreException.Kind.UNUSABLE, gone));
        }
        List<NewJob> copy = List.copyOf(jobs);
        return writeThenWake(() -> {
            long now = now();
            List<Enqueued> results = new ArrayList<>(copy.size());
            PreparedStatement insert = statement("insert");
            long nextId;
            try (ResultSet rs = statement("next-id").executeQuery()) {
                rs.next();
                nextId = rs.getLong(1);
            }
            int batched = 0;
            for (NewJob job : copy) {
                if (job.uniqueKey().isPresent()) {
                    if (batched > 0) {
                        insert.executeBatch();
                        batched = 0;
                    }
                    Enqueued keyed = enqueueKeyed(job, now);
                    results.add(keyed);
                    nextId = Math.max(nextId, keyed.id() + 1);
                    continue;
                }
                insert.setLong(1, nextId);
                insert.setString(2, job.queue());
                insert.setString(3, job.payload());
                insert.setInt(4, job.maxAttempts());
                insert.setLong(5, job.runAt().toEpochMilli());
                insert.setLong(6, now);
                insert.addBatch();
                batched++;
                results.add(new Enqueued(nextId++, true));
            }
            if (batched > 0) {
                insert.executeBatch();
            }
            return results;
        }, result -> result.stream().anyMatch(Enqueued::created));
    }

    /** Store thread: one job with a unique key, through the upsert that says whether the key was free. */
    private Enqueued enqueueKeyed(NewJob job, long now) throws SQLException {
        PreparedStatement upsert = statement("enqueue");
        upsert.setString(1, job.queue());
        upsert.setString(2, job.payload());
        upsert.setInt(3, job.maxAttempts());
        upsert.setLong(4, job.runAt().toEpochMilli());
        upsert.setLong(5, now);
        upsert.setString(6, job.uniqueKey().orElseThrow());
        try (ResultSet rs = upsert.executeQuery()) {
            if (rs.next()) {
                return new Enqueued(rs.getLong(1), true);
            }
        }
        PreparedStatement byKey = statement("find-by-key");
        byKey.setString(1, job.uniqueKey().get());
        try (ResultSet rs = byKey.executeQuery()) {
            rs.next();
            return new Enqueued(rs.getLong(1), false);
        }
    }

    @Override
    public Future<List<Job>> claim(String queue, int limit) {
        return write(() -> {
            PreparedStatement claim = statement("claim");
            claim.setString(1, owner.id());
            claim.setString(2, queue);
            claim.setLong(3, now());
            claim.setInt(4, limit);
            List<Job> jobs = new ArrayList<>(limit);
            try (ResultSet rs = claim.executeQuery()) {
                while (rs.next()) {
                    jobs.add(new Job(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                            Instant.ofEpochMilli(rs.getLong(6)), JobState.RUNNING,
                            Optional.ofNullable(rs.getString(8)), Optional.ofNullable(rs.getString(9)),
                            Optional.of(owner.id()), Instant.ofEpochMilli(rs.getLong(7)), Optional.empty()));
                }
            }
            // why: RETURNING gives rows in no promised order; sections start oldest run-at first.
            jobs.sort(Comparator.comparing(Job::runAt).thenComparingLong(Job::id));
            return jobs;
        });
    }

    @Override
    public Future<Boolean> complete(Job claimed) {
        return write(() -> {
            PreparedStatement ack = statement("complete");
            ack.setLong(1, now());
            ack.setLong(2, claimed.id());
            ack.setString(3, claimed.owner().orElse(""));
            ack.setInt(4, claimed.attempt());
            return ack.executeUpdate() == 1;
        });
    }

    @Override
    public Future<FailOutcome> fail(Job claimed, String error, Instant retryAt) {
        return write(() -> {
            PreparedStatement fail = statement("fail");
            fail.setLong(1, retryAt.toEpochMilli());
            fail.setLong(2, now());
            fail.setString(3, error);
            fail.setLong(4, claimed.id());
            fail.setString(5, claimed.owner().orElse(""));
            fail.setInt(6, claimed.attempt());
            try (ResultSet rs = fail.executeQuery()) {
                if (!rs.next()) {
                    return FailOutcome.FENCED;
                }
                return rs.getString(1).equals("dead") ? FailOutcome.DEAD
                        : FailOutcome.retryAt(Instant.ofEpochMilli(rs.getLong(2)));
            }
        });
    }

    @Override
    public Future<Integer> release(List<Job> claimed, boolean countAttempt) {
        List<Job> copy = List.copyOf(claimed);
        if (copy.isEmpty()) {
            return Future.succeededFuture(0);
        }
        return writeThenWake(() -> {
            long now = now();
            int moved = 0;
            PreparedStatement release = statement(countAttempt ? "release-counted" : "release-uncounted");
            for (Job job : copy) {
                int p = 1;
                if (countAttempt) {
                    release.setLong(p++, now);
                    release.setString(p++, "attempt " + job.attempt() + " was cut by the shutdown grace cap");
                }
                release.setLong(p++, job.id());
                release.setString(p++, job.owner().orElse(""));
                release.setInt(p, job.attempt());
                moved += release.executeUpdate();
            }
            return moved;
        }, result -> result > 0);
    }

    @Override
    public Future<List<RecoveredJob>> recoverOrphans() {
        return write(() -> {
            PreparedStatement orphans = statement("orphans");
            orphans.setString(1, owner.id());
            List<long[]> found = new ArrayList<>();
            List<String> owners = new ArrayList<>();
            try (ResultSet rs = orphans.executeQuery()) {
                while (rs.next()) {
                    found.add(new long[]{rs.getLong(1), rs.getInt(2)});
                    owners.add(rs.getString(3));
                }
            }
            long now = now();
            PreparedStatement release = statement("release-counted");
            PreparedStatement state = statement("find");
            List<RecoveredJob> recovered = new ArrayList<>(found.size());
            for (int i = 0; i < found.size(); i++) {
                long id = found.get(i)[0];
                int attempt = (int) found.get(i)[1];
                String previous = owners.get(i) == null ? "" : owners.get(i);
                release.setLong(1, now);
                release.setString(2, "attempt " + attempt + " was cut: its owner " + previous + " died");
                release.setLong(3, id);
                release.setString(4, previous);
                release.setInt(5, attempt);
                if (release.executeUpdate() == 1) {
                    state.setLong(1, id);
                    boolean dead;
                    try (ResultSet rs = state.executeQuery()) {
                        dead = rs.next() && rs.getString(10).equals("dead");
                    }
                    recovered.add(new RecoveredJob(id, attempt, previous, dead));
                }
            }
            return recovered;
        });
    }

    @Override
    public Future<Integer> releaseOwned() {
        return write(() -> {
            PreparedStatement owned = statement("owned");
            owned.setString(1, owner.id());
            List<long[]> found = new ArrayList<>();
            try (ResultSet rs = owned.executeQuery()) {
                while (rs.next()) {
                    found.add(new long[]{rs.getLong(1), rs.getInt(2)});
                }
            }
            PreparedStatement release = statement("release-uncounted");
            int moved = 0;
            for (long[] job : found) {
                release.setLong(1, job[0]);
                release.setString(2, owner.id());
                release.setInt(3, (int) job[1]);
                moved += release.executeUpdate();
            }
            return moved;
        });
    }

    @Override
    public Future<List<QueueStats>> stats(List<String> alwaysShown) {
        List<String> shown = List.copyOf(alwaysShown);
        return read(() -> {
            long now = now();
            QueueStats.Tally tally = new QueueStats.Tally(Instant.ofEpochMilli(now), shown);
            PreparedStatement stats = statement("stats");
            stats.setLong(1, now);
            try (ResultSet rs = stats.executeQuery()) {
                while (rs.next()) {
                    String queue = rs.getString(1);
                    JobState state = JobState.of(rs.getString(2));
                    long count = rs.getLong(3);
                    long oldestRunAt = rs.getLong(4);
                    tally.add(queue, state, count, rs.wasNull() ? Optional.empty()
                            : Optional.of(Instant.ofEpochMilli(oldestRunAt)));
                }
            }
            return tally.result();
        });
    }

    @Override
    public Future<List<Job>> list(Optional<JobState> state, Optional<String> queue, int limit) {
        return read(() -> {
            PreparedStatement list = statement("list");
            if (state.isPresent()) {
                list.setString(1, state.get().label());
            } else {
                list.setNull(1, Types.VARCHAR);
            }
            if (queue.isPresent()) {
                list.setString(2, queue.get());
            } else {
                list.setNull(2, Types.VARCHAR);
            }
            list.setInt(3, limit);
            List<Job> jobs = new ArrayList<>();
            try (ResultSet rs = list.executeQuery()) {
                while (rs.next()) {
                    jobs.add(fullRow(rs));
                }
            }
            return jobs;
        });
    }

    @Override
    public Future<Optional<Job>> find(long id) {
        return read(() -> {
            PreparedStatement find = statement("find");
            find.setLong(1, id);
            try (ResultSet rs = find.executeQuery()) {
                return rs.next() ? Optional.of(fullRow(rs)) : Optional.empty();
            }
        });
    }

    /** A row of the find/list column list. */
    private static Job fullRow(ResultSet rs) throws SQLException {
        long finished = rs.getLong(12);
        Optional<Instant> finishedAt = rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(finished));
        return new Job(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                Instant.ofEpochMilli(rs.getLong(6)), JobState.of(rs.getString(10)),
                Optional.ofNullable(rs.getString(8)), Optional.ofNullable(rs.getString(9)),
                Optional.ofNullable(rs.getString(11)), Instant.ofEpochMilli(rs.getLong(7)), finishedAt);
    }

    @Override
    public Future<Boolean> retry(long id) {
        return writeThenWake(() -> {
            PreparedStatement retry = statement("retry");
            retry.setLong(1, now());
            retry.setLong(2, id);
            return retry.executeUpdate() == 1;
        }, result -> result);
    }

    @Override
    public Future<Integer> retryDead(Optional<String> queue) {
        return writeThenWake(() -> {
            PreparedStatement retry = statement("retry-dead");
            retry.setLong(1, now());
            if (queue.isPresent()) {
                retry.setString(2, queue.get());
            } else {
                retry.setNull(2, Types.VARCHAR);
            }
            return retry.executeUpdate();
        }, result -> result > 0);
    }

    @Override
    public Future<Integer> purge(JobState state, Instant finishedBefore) {
        if (state != JobState.DONE && state != JobState.DEAD) {
            return Future.failedFuture(new IllegalArgumentException("only done and dead jobs are purged, not " + state.label()));
        }
        return purgeChunks(state, finishedBefore, 0);
    }

    private Future<Integer> purgeChunks(JobState state, Instant finishedBefore, int sofar) {
        return this.<Integer>write(() -> {
            PreparedStatement purge = statement(state == JobState.DONE ? "purge-done" : "purge-dead");
            purge.setLong(1, finishedBefore.toEpochMilli());
            purge.setInt(2, PURGE_CHUNK);
            return purge.executeUpdate();
        }).compose(n -> n < PURGE_CHUNK ? Future.succeededFuture(sofar + n) : purgeChunks(state, finishedBefore, sofar + n));
    }

    @Override
    public void onJobsAvailable(Runnable listener) {
        listeners.add(listener);
    }

    @Override
    public Future<Void> close() {
        return thread.close().andThen(ar -> {
            if (lock != null) {
                lock.close();
            }
        });
    }
}
