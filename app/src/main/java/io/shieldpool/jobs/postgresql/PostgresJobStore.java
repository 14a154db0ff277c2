package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.AckResults;
import io.shieldpool.jobs.Enqueued;
import io.shieldpool.jobs.FailOutcome;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.Limiting;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.QueueStats;
import io.shieldpool.jobs.RecoveredJob;
import io.shieldpool.jobs.Slots;
import io.shieldpool.jobs.StoreWait;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The shared job store: PostgreSQL through vertx-pg-client, non-blocking. Many daemons (nodes)
 * use one database: claims take disjoint rows ({@code FOR UPDATE SKIP LOCKED}), every node
 * heartbeats its row in {@code shieldpool_nodes}, and every live node rescues the running jobs of
 * nodes that died (heartbeat older than the ttl) or of attempts past their lease. The statements
 * are in {@code statements.sql}, the schema in {@code schema.sql}, both next to this class.
 *
 * <p>why its own Vert.x instance (one event loop): the store is opened before the daemon's Vert.x
 * exists (it recovers orphans before the pool reports ready) and closed after it (the last acks),
 * like the SQLite store's thread. Requests may come from any thread; each future completes on the
 * Vert.x context of the caller (none: on the store's event loop).
 *
 * <p>The database may go away: a request that fails on a lost connection is not lost. Acks,
 * failures and releases are retried until they land (an ack whose first try committed before the
 * connection broke is recognised as landed, not as fenced), claims simply return nothing until it
 * is back; one WARN line when the database becomes unreachable, one INFO line when it is back.
 */
public final class PostgresJobStore implements JobStore {

    private static final Logger log = LoggerFactory.getLogger(PostgresJobStore.class);

    /** The newest schema version this build knows. */
    public static final int SCHEMA_VERSION = Schema.VERSION;

    private static final SqlStatements SQL = SqlStatements.load("statements.sql");
    /** Rows one purge statement deletes at most: short transactions, no long row locks. */
    private static final int PURGE_CHUNK = 5_000;
    /** NOTIFY at most this often from one store: each NOTIFY takes a global lock at commit. */
    private static final long NOTIFY_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Most acks one statement writes (a batch of 1,000 is a few milliseconds of server time). */
    private static final int MAX_ACK_BATCH = 1_000;
    /** Batches of acks written at once (of the pool's connections; AckBatches says why two). */
    private static final int ACK_BATCHES_IN_FLIGHT = 2;
    /** After close() was called, retries of acks give up after this long (the node's jobs are rescued). */
    private static final Duration RETRY_AFTER_CLOSE = Duration.ofSeconds(5);
    /** The longest pause between two attempts to reach a server that does not answer at start. */
    static final Duration START_RETRY_MAX = Duration.ofSeconds(5);
    private static final String NO_ANSWER = " no answer within 30 s";
    /** SQLSTATE read_only_sql_transaction: the server takes no writes (a standby, default_transaction_read_only). */
    private static final String READ_ONLY = "25006";
    /** While the server refuses writes, the pool is replaced at once, then after pauses from this ({@link #renewConnections}) ... */
    private static final Duration RENEW_CONNECTIONS_FIRST_PAUSE = Duration.ofSeconds(1);
    /** ... doubling up to this: how late a node takes writes again after a read-only default is reset. */
    private static final Duration RENEW_CONNECTIONS_LONGEST_PAUSE = Duration.ofSeconds(5);
    /** How often a node deletes the rows of nodes gone for more than a day (nodes-forget). */
    private static final Duration FORGET_NODES_EVERY = Duration.ofHours(1);

    private final PostgresSettings settings;
    private final JobOwner owner;
    private final Clock clock;
    private final boolean daemon;
    private final Vertx vertx;
    private final Context context;
    /**
     * The connections; replaced whole when one of them was refused a write ({@link #renewConnections}).
     * Read afresh by every request; written on the store context, or by the opening before any request.
     */
    private volatile Pool pool;
    /** When {@link #renewConnections} replaces the pool; the opening's thread, then the store context. */
    private final ConnectionRenewals renewals = new ConnectionRenewals(RENEW_CONNECTIONS_FIRST_PAUSE,
            RENEW_CONNECTIONS_LONGEST_PAUSE);
    private final PgConnectOptions connectOptions;
    /** The URL's sslcrl check, which knows why it refused a server's certificate (the client does not say). */
    private final Optional<ServerCertificateCheck> certificateCheck;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> slotListeners = new CopyOnWriteArrayList<>();
    /** When this node's last heartbeat that landed was sent (System.nanoTime); see {@link #claimsSafe}. */
    private volatile long lastBeatNanos = System.nanoTime();
    /** See {@link #claimEpoch()}; written on the store context, read by the feeds. */
    private volatile long claimEpoch;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();
    private final Promise<Void> drained = Promise.promise();
    private volatile boolean closing;
    private volatile long closingSinceNanos;
    private volatile boolean draining;
    private volatile long lastNotifyNanos;
    /**
     * Per queue, the first new due job of the enqueues that came within {@link #NOTIFY_EVERY_NANOS}
     * of the last NOTIFY check, checked once that window ends ({@link #notifyLater}); guarded by itself.
     */
    private final Map<String, Long> notifyLaterFirstIds = new LinkedHashMap<>();
    private volatile boolean reachable = true;
    private volatile long unreachableSinceNanos;
    /** Store context: the outage was logged as the server taking no writes (25006), not as gone. */
    private boolean outageReadOnly;
    /** Store context: when requests began failing on lost connections (0: the last one succeeded). */
    private volatile long failingSinceNanos;
    /** When a request last failed on a lost connection; the rescue waits a node ttl after it. */
    private volatile long lastConnectionLossNanos;
    /** Store context: acks, failures and releases not settled yet; releaseOwned waits for them. */
    private int acksInFlight;
    private final List<Promise<Void>> acksSettled = new ArrayList<>();
    /**
     * A claimant's wait for a slot counts while it looked this recently. why: a waiting feed
     * looks at least every 100 ms, so a wait older than this is one nobody keeps up (a node
     * killed before its ttl ran out, a shard that lost its idle workers): it delays nobody.
     */
    private static final Duration WAIT_FRESH = Duration.ofSeconds(1);
    /** Store context: acks wait here while a batch of them is being written (group commit). */
    private final AckBatches acks = new AckBatches(MAX_ACK_BATCH, ACK_BATCHES_IN_FLIGHT, this::writeAcks);
    /** Store context: per queue, where this node's claims go on from (ClaimCursor). */
    private final Map<String, ClaimCursor> cursors = new HashMap<>();
    /** Store context: the ids of the jobs this store claimed and has not settled (acked, failed, released). */
    private final Set<Long> heldIds = new HashSet<>();
    /** Store context: claims sent and not answered yet. */
    private int claimsInFlight;
    /**
     * Store context: a claim failed on a lost connection, so its commit may have landed
     * with nobody told: jobs running under this node that no worker will start. The next
     * heartbeat gives them back (release-strays) once no claim is in flight.
     */
    private boolean straysPossible;
    /** Store context: release-strays is running; claims return nothing meanwhile. */
    private boolean sweepingStrays;
    /**
     * Store context: releaseOwned has begun (the stop): claims return nothing from then on, and it
     * waits for the claims already sent. why: a claim answered after it would leave its jobs
     * running under a stopped node, to be rescued as cut attempts (seen in PostgresClusterIT).
     */
    private boolean releasingOwned;
    /**
     * Store context: set by a request that answers without asking the database (a claim while
     * jobs are being given back), so that its success is not taken for the database being back
     * (at a drain during an outage, "reachable again" was logged with the database still down).
     */
    private boolean answeredWithoutDatabase;
    /** Store context: releaseOwned waiting for the claims in flight to be answered. */
    private final List<Promise<Void>> claimsSettled = new ArrayList<>();
    /** Store context: answers not yet sent to their callers' contexts, one box per context ({@link #deliver}). */
    private final List<Outbox> outboxes = new ArrayList<>();
    /** Store context: a task that sends the outboxes is queued on this context. */
    private boolean outboxesDue;
    /** The owner column's value as a claimed job carries it (built once: claims build one per job). */
    private final Optional<String> ownerId;
    private PgSubscriber subscriber;
    private long heartbeatTimer = -1;
    /** Store context: when this node last ran nodes-forget (its first heartbeat does). */
    private long lastForgetNanos = System.nanoTime() - FORGET_NODES_EVERY.toNanos();

    private PostgresJobStore(PostgresSettings settings, JobOwner owner, Clock clock, boolean daemon) {
        this.settings = settings;
        this.owner = owner;
        this.clock = clock;
        this.daemon = daemon;
        this.ownerId = Optional.of(owner.id());
        this.certificateCheck = settings.certificateCheck();
        this.connectOptions = settings.connectOptions(certificateCheck);
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setInternalBlockingPoolSize(1));
        this.context = vertx.getOrCreateContext();
        this.lastConnectionLossNanos = System.nanoTime() - settings.nodeTtl().toNanos();
        this.pool = newPool();
    }

    private Pool newPool() {
        var builder = PgBuilder.pool().with(new PoolOptions().setMaxSize(settings.poolSize())
                .setConnectionTimeout(10).setConnectionTimeoutUnit(TimeUnit.SECONDS));
        // the URL's connect_timeout (libpq's); without one the client's 60 s, which the pool's 10 s wait above cuts short
        settings.connectTimeout().ifPresent(t -> builder.with(new io.vertx.core.net.NetClientOptions()
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, t.toMillis()))));
        return builder.connectingTo(connectOptions).using(vertx).build();
    }

    /**
     * A statement was refused with 25006 (read-only): the pool is replaced by a new one, whose
     * connections take the server's defaults as they are now; the old one is closed (its
     * connections end after the commands already sent to them). why: a session keeps the
     * per-database and per-role defaults it was opened with, so after {@code ALTER DATABASE ...
     * SET default_transaction_read_only = on} (connections opened again meanwhile) and its RESET,
     * the pooled connections stayed read-only and the daemon never recovered before a restart.
     * why not {@code BEGIN READ WRITE}: that would override an operator's read-only setting.
     * Backing off ({@link ConnectionRenewals}): while the server still refuses writes, the new
     * connections are refused too, and each renewal is a few new sessions. Store context, or the
     * opening's thread while no request runs.
     */
    private void renewConnections(Throwable cause) {
        if (closing || !isReadOnly(cause) || !renewals.due(System.nanoTime())) {
            return;
        }
        Pool refused = pool;
        pool = newPool();
        refused.close().onFailure(e -> log.debug("closing the connections refused a write: {}", e.toString()));
        log.debug("job store {}: a write was refused (25006); connections opened again", settings.safeUrl());
    }

    /**
     * Opens the store for a daemon: migrates the schema if needed, registers this node and starts
     * heartbeating it, subscribes to wake-ups. Blocking (bounded): call off the event loop.
     *
     * @throws JobStoreException UNUSABLE when the database cannot be reached or used as configured
     */
    public static PostgresJobStore openForDaemon(PostgresSettings settings, JobOwner owner, Clock clock) {
        return openForDaemon(settings, owner, clock, StoreWait.NEVER);
    }

    /**
     * Like {@link #openForDaemon(PostgresSettings, JobOwner, Clock)}, but while the server does not
     * answer (no server listening, the host unreachable or unknown, the server starting or shutting
     * down, too many connections) it tries again, backing off to {@link #START_RETRY_MAX}, for as
     * long as {@code wait} lets it: one WARN line ({@code jobs.store-waiting}) when the wait begins,
     * one INFO line ({@code jobs.store-reachable}) when the server answers. A server that answers
     * and refuses (authentication, no such database, a newer schema) fails at once.
     *
     * @throws JobStoreException UNUSABLE as above; FAILED when {@code wait} asked to stop waiting
     */
    public static PostgresJobStore openForDaemon(PostgresSettings settings, JobOwner owner, Clock clock, StoreWait wait) {
        return open(settings, owner, clock, true, wait);
    }

    /** Opens the store for a command-line tool: migrates if needed, registers no node, never claims. Blocking. */
    public static PostgresJobStore openForTool(PostgresSettings settings, Clock clock) {
        return open(settings, JobOwner.thisProcess(), clock, false, StoreWait.NEVER);
    }

    /** Only migrates the schema ({@code shieldpool jobs migrate}); returns the version found before. Blocking. */
    public static int migrate(PostgresSettings settings) {
        PostgresJobStore store = new PostgresJobStore(settings, JobOwner.thisProcess(), Clock.systemUTC(), false);
        try {
            return store.await(Schema.migrate(store.pool, settings.safeUrl()));
        } finally {
            store.shutdown();
        }
    }

    private static PostgresJobStore open(PostgresSettings settings, JobOwner owner, Clock clock, boolean daemon,
                                         StoreWait wait) {
        PostgresJobStore store = new PostgresJobStore(settings, owner, clock, daemon);
        try {
            store.firstContact(wait, () -> {
                store.await(Schema.migrate(store.pool, settings.safeUrl()));
                if (daemon) {
                    if (settings.limits().isPresent()) {
                        PostgresSettings.QueueLimits l = settings.limits().get();
                        store.await(store.pool.preparedQuery(SQL.get("limits-set")).execute(Tuple.of(l.queue(), l.concurrency(),
                                l.rate(), l.burst())));
                    }
                    long sent = System.nanoTime();
                    store.await(store.pool.preparedQuery(SQL.get("node-register")).execute(Tuple.of(owner.id(), owner.host(),
                            owner.pid(), settings.nodeTtl().toMillis())));
                    // why: the row's heartbeat is now; counted from the store's creation instead, a start
                    // that waited for the server claimed nothing until the first heartbeat landed (claimsSafe)
                    store.lastBeatNanos = sent;
                }
            });
            if (daemon) {
                store.context.runOnContext(v -> store.startBackground());
            }
            return store;
        } catch (RuntimeException e) {
            store.shutdown();
            throw e;
        }
    }

    /**
     * Runs {@code opening} (the schema's migration, then a daemon's limits and node row), the
     * first statements of a start; while the server does not answer or takes no writes, and
     * {@code wait} allows it, tries it all again with backoff. why the statements themselves and
     * not a probe before them: a server that goes away between a probe and the migration would
     * otherwise turn a short outage into exit 78, which systemd does not restart; and why the node
     * row too: a standby has the schema (replicated) and refuses only the row, which a failover
     * soon makes writable.
     */
    private void firstContact(StoreWait wait, Runnable opening) {
        long begun = System.nanoTime();
        long backoffMillis = 250;
        boolean waiting = false;
        while (true) {
            try {
                opening.run();
                renewals.writeLanded();
                break;
            } catch (JobStoreException e) {
                boolean noAnswer = e.kind() == JobStoreException.Kind.UNREACHABLE;
                if (!wait.enabled() || !noAnswer) {
                    throw e;
                }
                renewConnections(e.getCause());
                if (!waiting) {
                    waiting = true;
                    String error = e.getCause() == null ? NO_ANSWER.strip() : e.getCause().getMessage() + hint(e.getCause());
                    log.atWarn().addKeyValue("event", "jobs.store-waiting").addKeyValue("url", settings.safeUrl())
                            .addKeyValue("error", error)
                            .log("job store {} does not answer ({}); waiting for it (trying again every {} s at most),"
                                    + " not ready until it does", settings.safeUrl(), error, START_RETRY_MAX.toSeconds());
                    wait.waiting(settings.safeUrl(), error);
                }
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
                while (System.nanoTime() < until) {
                    if (wait.stopRequested()) {
                        throw new JobStoreException(JobStoreException.Kind.FAILED, "stopped while waiting for the job store "
                                + settings.safeUrl());
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw new JobStoreException(JobStoreException.Kind.FAILED, "interrupted");
                    }
                }
                backoffMillis = Math.min(START_RETRY_MAX.toMillis(), backoffMillis * 2);
                log.debug("job store {}: trying again", settings.safeUrl());
            }
        }
        if (waiting) {
            lastConnectionLossNanos = System.nanoTime();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begun);
            log.atInfo().addKeyValue("event", "jobs.store-reachable").addKeyValue("url", settings.safeUrl())
                    .addKeyValue("outage_ms", ms).log("job store {} answers, after {} ms of waiting", settings.safeUrl(), ms);
        }
    }

    private <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof JobStoreException j) {
                throw j;
            }
            if (socketDenied(cause)) {
                throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "cannot open the job store "
                        + settings.safeUrl() + ": permission denied on its unix socket " + socketOf()
                        + " (user " + System.getProperty("user.name") + " may not enter the socket directory or write"
                        + " the socket: check their owner and mode, or the user's groups); not retried", cause);
            }
            // why a refused certificate apart, at the opening only: it fails every retry too (exit 78,
            // not a wait); later, mid-run, a handshake cut by a restarting server is retried as a loss
            if (!tlsRefused(cause) && !refusedStartupParameter(cause) && isConnectionLoss(cause)) {
                throw new JobStoreException(JobStoreException.Kind.UNREACHABLE, "cannot open the job store "
                        + settings.safeUrl() + ": " + cause.getMessage() + hint(cause) + unreachableHint(cause), cause);
            }
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "cannot open the job store "
                    + settings.safeUrl() + ": " + cause.getMessage() + hint(cause), cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new JobStoreException(JobStoreException.Kind.UNREACHABLE, "cannot open the job store "
                    + settings.safeUrl() + ":" + NO_ANSWER);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JobStoreException(JobStoreException.Kind.UNUSABLE, "interrupted");
        }
    }

    /** The client's words for a server that answers sslmode=require (or verify-*) without TLS. */
    private static final String NO_TLS = "Postgres Server does not handle SSL connection";

    /**
     * Whether {@code cause} is TLS failing as the URL's sslmode set it up: the server's certificate
     * refused by its checks, or a server without TLS where it is required. why the messages: the
     * client reports the first as a VertxException "SSL handshake failed" that keeps neither the
     * JDK's exception nor its reason, the second as a plain Exception.
     */
    private static boolean tlsRefused(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLHandshakeException || NO_TLS.equals(t.getMessage())
                    || t instanceof io.vertx.core.VertxException && "SSL handshake failed".equals(t.getMessage())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a pooler refused the connection's startup parameters ("unsupported startup
     * parameter", 08P01: PgBouncer): a setting to change, not an outage to wait out.
     */
    private static boolean refusedStartupParameter(Throwable cause) {
        return cause instanceof io.vertx.pgclient.PgException pg && "08P01".equals(pg.getSqlState())
                && String.valueOf(pg.getErrorMessage()).startsWith("unsupported startup parameter");
    }

    /**
     * What to check when the server could not be reached. why: "Connection refused: localhost/127.0.0.1:5432" or "No such file or directory:
     * /tmp/pg/.s.PGSQL.5432" is all the client says when no server listens there, where libpq asks
     * "Is the server running ...?": the tools' exit-69 line said what failed, not what to check.
     */
    private static String unreachableHint(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            // why before ConnectException: Netty's connect timeout is one, and the host did not refuse, it did not answer
            if (t instanceof io.netty.channel.ConnectTimeoutException) {
                return " (the host did not answer: is it up, and does a firewall let its port through?)";
            }
            // why: without a connect_timeout below it, the pool's own 10 s wait ends a connect nobody answers
            // before Netty's 60 s does, with no cause: "Timeout" (vertx-core's NoStackTraceThrowable, when a
            // connection is taken: withTransaction, as the migration at the opening) or "Timeout waiting for
            // connection" (the sql client's VertxException, for a query on the pool)
            if (t.getCause() == null && (message.equals("Timeout") || message.equals("Timeout waiting for connection"))) {
                return " (no connection within the pool's 10 s: is the host up, and does a firewall let its port through?"
                        + " connect_timeout in the URL bounds each connect)";
            }
            // EHOSTUNREACH, or ENETUNREACH (no route: a network down, a container without one)
            if (t instanceof java.net.NoRouteToHostException
                    || t instanceof java.net.SocketException && message.startsWith("Network is unreachable")) {
                return " (no route to that host from here: is its name or address right, and is this machine's network up?)";
            }
            // a refused connect, or a unix socket path with nothing there (Netty's ENOENT, a SocketException)
            if (t instanceof java.net.ConnectException
                    || t instanceof java.net.SocketException && message.startsWith("No such file or directory")) {
                return " (nothing listens there: is the server running, and does the URL name its host and port, or its"
                        + " unix_socket_directories with host=?)";
            }
        }
        return "";
    }

    /** What to do about a refusal an operator meets when setting a store up; "" when there is nothing to add. */
    private String hint(Throwable cause) {
        if (refusedStartupParameter(cause)) {
            return " (PgBouncer refuses it: set jobs.postgresql.behind-pgbouncer = true when the URL names PgBouncer)";
        }
        if (tlsRefused(cause) && NO_TLS.equals(cause.getMessage())) {
            return " (the URL's sslmode requires TLS and the server has none: turn ssl on in its postgresql.conf, or use"
                    + " sslmode=prefer)";
        }
        Optional<String> revoked = certificateCheck.flatMap(ServerCertificateCheck::refusal);
        if (tlsRefused(cause) && revoked.isPresent()) {
            return " (the server's certificate failed the URL's sslmode checks: " + revoked.get() + ")";
        }
        if (tlsRefused(cause)) {
            return " (the server's certificate failed the URL's sslmode checks: check that sslrootcert holds the CA"
                    + " that signed it and, with verify-full, that it names the URL's host)";
        }
        String state = cause instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null ? pg.getSqlState() : "";
        return switch (state) {
            // why: the first start creates the schema; a role without CREATE on it can still run
            // the daemon once the schema's owner has migrated it (the tables' rights are enough).
            case "42501" -> "; grant this role CREATE on the schema, or run `shieldpool jobs migrate` as the schema's"
                    + " owner and grant this role USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its tables"
                    + " and sequences";
            case READ_ONLY -> " (the server takes no writes: a hot standby, a failover not finished, or"
                    + " default_transaction_read_only; the store needs the primary)";
            default -> "";
        };
    }

    private void shutdown() {
        try {
            pool.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    // ---- background: heartbeat + rescue, LISTEN ----

    /** Store context: the heartbeat/rescue timer and the LISTEN subscriber. */
    private void startBackground() {
        heartbeatTimer = vertx.setPeriodic(settings.heartbeatInterval().toMillis(), id -> beat());
        if (settings.behindPgbouncer()) {
            // why no LISTEN: in transaction mode PgBouncer hands the LISTEN's server connection to other
            // clients after it, so notifications reach no one; claims wake by poll-interval instead.
            fireListeners();
            return;
        }
        subscriber = PgSubscriber.subscriber(vertx, connectOptions)
                // why: without a policy the subscriber never reconnects after the server restarts.
                .reconnectPolicy(retries -> Math.min(5_000L, 250L * (retries + 1)));
        // why a channel of its own: a slot given back (or freed by a limited ack) wakes the node first in line only
        subscriber.channel("shieldpool_slots").handler(node -> {
            if (node.equals(owner.id())) {
                fireListeners();
            }
        });
        subscriber.channel("shieldpool_slots_wanted").handler(queue -> slotListeners.forEach(Runnable::run));
        subscriber.channel("shieldpool_jobs")
                .handler(queue -> fireListeners())
                // why: (re)subscribed: notifications sent while we were not listening are lost, so look once.
                .subscribeHandler(v -> {
                    quietSubscriberConnection();
                    fireListeners();
                });
        connectSubscriber();
    }

    /**
     * {@code pool.withTransaction} on a connection whose errors are not printed. why: the client
     * prints the error of a connection that has no exception handler to stderr with its stack
     * trace (a broken pipe at a COMMIT while the server goes away), beside the one WARN line of
     * the outage; the request fails all the same, and its caller retries or gives up.
     */
    private <T> Future<T> inTransaction(java.util.function.Function<io.vertx.sqlclient.SqlConnection, Future<T>> body) {
        // why not pool.withTransaction: its BEGIN is sent before the body could set the handler
        return pool.getConnection().compose(c -> {
            quiet(c, "connection in a transaction");
            return c.begin()
                    .compose(tx -> body.apply(c).compose(
                            result -> tx.commit().map(result),
                            failure -> failure instanceof io.vertx.sqlclient.TransactionRollbackException ? Future.<T>failedFuture(failure)
                                    : tx.rollback().transform(v -> Future.<T>failedFuture(failure))))
                    .onComplete(done -> c.close());
        });
    }

    /**
     * why: the subscriber sets no exception handler on its connection, and the client then prints
     * every error of that connection to stderr with its stack trace (the server's 57P01 at a
     * restart, a connection reset at a stop); the subscriber's close handler reconnects, and the
     * outage itself is logged once by the pool's side (jobs.store-unreachable).
     */
    private void quietSubscriberConnection() {
        var connection = subscriber.actualConnection();
        if (connection != null) {
            quiet(connection, "LISTEN connection");
        }
    }

    /** {@code connection}'s errors as DEBUG lines instead of the client's stack traces on stderr (see above). */
    private static void quiet(io.vertx.sqlclient.SqlConnection connection, String what) {
        connection.exceptionHandler(e -> log.debug("{}: {}", what, e.toString()));
    }

    private void connectSubscriber() {
        if (closing) {
            return;
        }
        subscriber.connect().onFailure(e -> {
            if (!closing) {
                vertx.setTimer(1_000, id -> connectSubscriber());
            }
        });
    }

    /** Store context, every heartbeat interval: the heartbeat, then one rescue round. */
    private void beat() {
        if (closing) {
            return;
        }
        // why the time it was sent: the row's heartbeat_at is the server's time when the statement
        // ran, which is later; a node counts its own heartbeat no younger than the others see it
        long sentNanos = System.nanoTime();
        pool.preparedQuery(SQL.get("node-heartbeat")).execute(Tuple.of(owner.id(), draining ? "draining" : "running",
                        held.get(), settings.nodeTtl().toMillis()))
                .andThen(ar -> {
                    if (ar.succeeded()) {
                        long previous = lastBeatNanos;
                        if (System.nanoTime() - previous >= unsafeAfterNanos()) {
                            claimEpoch++; // claimsSafe was false until now: what was claimed before may be rescued
                        }
                        // why max: beats run on different connections, and an older one may land last (at a heal)
                        lastBeatNanos = Math.max(previous, sentNanos);
                    }
                })
                // why: a node that was cut off from the database lately was probably not the only
                // one: the others' heartbeats are old because the database was gone, not because
                // they died. Give them one ttl to heartbeat again before taking their jobs (a
                // 30 s outage would otherwise rescue, and run twice, every job running elsewhere).
                .compose(v -> cutOffLately() ? Future.succeededFuture(List.<RecoveredJob>of()) : rescue(true))
                .compose(rescued -> releaseStrays().map(rescued))
                .compose(rescued -> cutOffLately() ? Future.succeededFuture(rescued) : forgetOldNodes().map(rescued))
                .onComplete(ar -> {
                    if (ar.failed()) {
                        if (isConnectionLoss(ar.cause())) {
                            unreachable(ar.cause());
                        } else {
                            log.warn("job store heartbeat or rescue failed: {}", ar.cause().getMessage());
                        }
                        return;
                    }
                    reachableAgain();
                    List<RecoveredJob> rescued = ar.result();
                    for (RecoveredJob job : rescued) {
                        log.atInfo().addKeyValue("event", "job.recovered").addKeyValue("job", job.id())
                                .addKeyValue("attempt", job.attempt()).addKeyValue("owner", job.owner())
                                .addKeyValue("dead", job.dead()).addKeyValue("by", owner.id())
                                .log("job {} rescued: attempt {} was cut ({} is dead or its lease ran out); {}", job.id(),
                                        job.attempt(), job.owner(), job.dead() ? "that was its last attempt, it is dead" : "ready again");
                    }
                    if (!rescued.isEmpty()) {
                        fireListeners();
                    }
                });
    }

    /** Whether a request failed on a lost connection (or the start waited for the server) less than a node ttl ago. */
    private boolean cutOffLately() {
        return System.nanoTime() - lastConnectionLossNanos < settings.nodeTtl().toNanos();
    }

    /**
     * Store context, at a heartbeat, at most every {@link #FORGET_NODES_EVERY}: deletes the rows of
     * nodes stopped or dead for more than a day that hold no job (nodes-forget). why: every start
     * registers a new node id, so a cluster that restarts often would list and count its history
     * forever (River and Oban prune old producers the same way). A node that is alive after all
     * re-creates its row at its next heartbeat.
     */
    private Future<Void> forgetOldNodes() {
        long now = System.nanoTime();
        if (now - lastForgetNanos < FORGET_NODES_EVERY.toNanos()) {
            return Future.succeededFuture();
        }
        lastForgetNanos = now;
        return pool.preparedQuery(SQL.get("nodes-forget")).execute().map(rows -> {
            if (rows.rowCount() > 0) {
                log.atDebug().addKeyValue("event", "jobs.nodes-forgotten").addKeyValue("count", rows.rowCount())
                        .log("{} node row(s) stopped or dead for more than a day forgotten", rows.rowCount());
            }
            return null;
        });
    }

    /** Store context, at a heartbeat: gives back jobs claimed by a commit nobody was told of (see {@link #straysPossible}). */
    private Future<Void> releaseStrays() {
        if (!straysPossible || claimsInFlight > 0 || sweepingStrays) {
            return Future.succeededFuture();
        }
        sweepingStrays = true;
        Long[] held = heldIds.toArray(Long[]::new);
        // why (Object): Tuple.of(Object, Object...) would spread a bare array into one parameter per id.
        return pool.preparedQuery(SQL.get("release-strays")).execute(Tuple.of(owner.id(), (Object) held))
                .andThen(ar -> sweepingStrays = false)
                .map(rows -> {
                    straysPossible = false;
                    if (rows.rowCount() > 0) {
                        log.atInfo().addKeyValue("event", "job.released").addKeyValue("count", rows.rowCount())
                                .log("{} job(s) released: claimed by a commit whose answer was lost with the connection,"
                                        + " never started; ready again, no attempt counted", rows.rowCount());
                        fireListeners();
                    }
                    return null;
                });
    }

    private Future<List<RecoveredJob>> rescue(boolean guarded) {
        Tuple args = Tuple.of(at(clock.instant()), guarded, WAIT_FRESH.toMillis(), owner.id());
        return pool.preparedQuery(SQL.get("rescue")).execute(args).map(rows -> {
            if (rows.size() > 0) {
                readyAgainBehind();
            }
            List<RecoveredJob> recovered = new ArrayList<>();
            for (Row row : rows) {
                recovered.add(new RecoveredJob(row.getLong(0), row.getInteger(1), row.getString(2),
                        row.getString(3).equals("dead")));
            }
            recovered.sort(Comparator.comparingLong(RecoveredJob::id));
            return recovered;
        });
    }

    /**
     * Store context: a request failed on a lost connection. why not WARN at once: after a server
     * restart every pooled connection fails once on its next use even though the server is back;
     * that blip is DEBUG. An outage is a failure that persists for a second (or a failed
     * heartbeat): one WARN for it, one INFO when it is over. A server that refuses writes (25006)
     * answers reads all the same: its WARN says it takes no writes, not that it is gone.
     */
    private void unreachable(Throwable cause) {
        long now = System.nanoTime();
        lastConnectionLossNanos = now;
        renewConnections(cause);
        if (failingSinceNanos == 0) {
            failingSinceNanos = now;
        }
        if (reachable && now - failingSinceNanos >= TimeUnit.SECONDS.toNanos(1)) {
            reachable = false;
            unreachableSinceNanos = failingSinceNanos;
            outageReadOnly = isReadOnly(cause);
            log.atWarn().addKeyValue("event", "jobs.store-unreachable").addKeyValue("url", settings.safeUrl())
                    .addKeyValue("error", String.valueOf(cause.getMessage()))
                    .log(outageReadOnly ? "job store {} answers but takes no writes: {}; sections in flight go on, their acks are retried,"
                                    + " claiming resumes when it takes writes again"
                                    : "job store {} unreachable: {}; sections in flight go on, their acks are retried, claiming resumes"
                                    + " when it is back", settings.safeUrl(), cause.getMessage() + hint(cause));
        } else {
            log.debug("job store request failed on a lost connection: {}", cause.getMessage());
        }
    }

    /**
     * Store context: a request that writes succeeded. why only a write: a server that takes no
     * writes (25006) answers reads, and a read's success (the status page's counts and cluster
     * view) ended its outage at every look: INFO, /readyz 200, then the next refused write a WARN
     * again, all through one read-only spell.
     */
    private void reachableAgain() {
        failingSinceNanos = 0;
        renewals.writeLanded();
        if (!reachable) {
            reachable = true;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unreachableSinceNanos);
            log.atInfo().addKeyValue("event", "jobs.store-reachable").addKeyValue("url", settings.safeUrl())
                    .addKeyValue("outage_ms", ms).log(outageReadOnly ? "job store {} takes writes again after {} ms"
                            : "job store {} reachable again after {} ms", settings.safeUrl(), ms);
            fireListeners();
        }
    }

    /** False from the WARN of an outage to the INFO that it is over (for /readyz). */
    @Override
    public boolean reachable() {
        return reachable;
    }

    /** Tests: this store stops heartbeating and rescuing (a node that hangs or lost its network), requests still work. */
    void freezeHeartbeatForTest() {
        context.runOnContext(v -> {
            if (heartbeatTimer >= 0) {
                vertx.cancelTimer(heartbeatTimer);
                heartbeatTimer = -1;
            }
        });
    }

    /**
     * Marks this node draining with a heartbeat now (not at the next interval: the other nodes'
     * views say so from the first signal); the heartbeats go on until {@link #close}.
     */
    @Override
    public void drainBegan() {
        draining = true;
        context.runOnContext(v -> beat());
    }

    // ---- requests ----

    /**
     * Runs {@code work} on the store context and completes the returned future on the caller's
     * context. Counted, so close() can finish what was requested before it. Its success ends an
     * outage (it writes: see {@link #read}).
     */
    private <T> Future<T> call(Supplier<Future<T>> work) {
        return call(work, true);
    }

    /**
     * {@link #call} for a request that only reads: its success does not end an outage (see
     * {@link #reachableAgain}), its failure on a lost connection counts as one.
     */
    private <T> Future<T> read(Supplier<Future<T>> work) {
        return call(work, false);
    }

    private <T> Future<T> call(Supplier<Future<T>> work, boolean writes) {
        if (closing) {
            return Future.failedFuture(new JobStoreException(JobStoreException.Kind.FAILED, "the job store is closed"));
        }
        Context caller = Vertx.currentContext();
        Promise<T> promise = Promise.promise();
        pending.incrementAndGet();
        context.runOnContext(v -> {
            Future<T> result;
            answeredWithoutDatabase = false;
            try {
                result = work.get();
            } catch (RuntimeException e) {
                result = Future.failedFuture(e);
            }
            boolean wroteToTheDatabase = writes && !answeredWithoutDatabase;
            result.onComplete(ar -> {
                // why the group's failure: a group of acks answers as a whole, which of them landed
                // and which failed; all of them failing on a lost connection is no sign the database is back
                Throwable lost = ar.failed() ? ar.cause()
                        : ar.result() instanceof AckResults acked && acked.failure() != null ? acked.failure() : null;
                if (lost == null) {
                    if (wroteToTheDatabase) {
                        reachableAgain();
                    }
                } else if (isConnectionLoss(lost)) {
                    unreachable(lost);
                }
                deliver(caller, promise, ar);
                if (pending.decrementAndGet() == 0 && closing) {
                    drained.tryComplete();
                }
            });
        });
        return promise.future();
    }

    /**
     * Store context: answers {@code promise} on its caller's context. why not one task per answer:
     * each task sent to a shard's event loop that sleeps wakes it (a syscall on this thread, the
     * hottest frame of its profile), and one read of the server's replies answers many requests
     * (the ack groups of several turns of each shard); queued here, a caller's answers of this turn
     * of the store's loop go as one task, in the order they came. A caller's context only ever
     * sees its own answers, in order, as before.
     */
    private <T> void deliver(Context caller, Promise<T> promise, AsyncResult<T> ar) {
        AsyncResult<T> result = ar.succeeded() ? ar : Future.failedFuture(ar.cause() instanceof JobStoreException
                || ar.cause() instanceof IllegalArgumentException ? ar.cause()
                : new JobStoreException(JobStoreException.Kind.FAILED, String.valueOf(ar.cause().getMessage()), ar.cause()));
        if (caller == null) {
            promise.handle(result);
            return;
        }
        if (Vertx.currentContext() != context) {
            caller.runOnContext(v -> promise.handle(result));
            return;
        }
        Outbox box = null;
        for (Outbox queued : outboxes) {
            if (queued.caller == caller) {
                box = queued;
                break;
            }
        }
        if (box == null) {
            box = new Outbox(caller);
            outboxes.add(box);
        }
        box.answers.add(() -> promise.handle(result));
        if (!outboxesDue) {
            outboxesDue = true;
            // why on this context: the task runs once this turn's replies have all been read and answered
            context.runOnContext(v -> sendOutboxes());
        }
    }

    /** Store context: sends each caller its queued answers, one task per caller. */
    private void sendOutboxes() {
        outboxesDue = false;
        List<Outbox> boxes = List.copyOf(outboxes);
        outboxes.clear();
        for (Outbox box : boxes) {
            box.caller.runOnContext(v -> box.answers.forEach(PostgresJobStore::answer));
        }
    }

    private static void answer(Runnable answer) {
        try {
            answer.run();
        } catch (RuntimeException e) {
            log.warn("job store: answering a request failed: {}", e.toString());
        }
    }

    /** The answers of one turn of the store's loop for one caller's context ({@link #deliver}). */
    private static final class Outbox {
        private final Context caller;
        private final List<Runnable> answers = new ArrayList<>();

        Outbox(Context caller) {
            this.caller = caller;
        }
    }

    /**
     * Whether a connection to a unix socket was refused by the file system's permissions (EACCES:
     * the directory may not be entered or the socket not written), which a retry does not mend.
     * why BindException: the JDK reports EACCES on connect as one (with EADDRINUSE and
     * EADDRNOTAVAIL, neither of which a unix-socket connect returns); Netty wraps it with the path.
     * Over TCP a BindException may be EADDRNOTAVAIL (no local port left), which passes: not matched.
     */
    private boolean socketDenied(Throwable cause) {
        boolean bind = false;
        for (Throwable t = cause; t != null && !bind; t = t.getCause()) {
            bind = t instanceof java.net.BindException;
        }
        return bind && connectOptions.isUsingDomainSocket();
    }

    private String socketOf() {
        PgConnectOptions options = connectOptions;
        return options.isUsingDomainSocket() ? options.getHost() + "/.s.PGSQL." + options.getPort() : options.getHost();
    }

    /** The server refused a write: it takes none now (SQLSTATE 25006). */
    private static boolean isReadOnly(Throwable cause) {
        return cause instanceof io.vertx.pgclient.PgException pg && READ_ONLY.equals(pg.getSqlState());
    }

    /** A failure that says nothing about the statement: the connection broke or could not be made. */
    private static boolean isConnectionLoss(Throwable cause) {
        if (cause instanceof io.vertx.pgclient.PgException pg) {
            // why: the server says it is going away or cannot serve now: 08 connection exception,
            // 57 operator intervention (57P01 admin shutdown at pg_ctl restart -m fast, 57P03
            // cannot connect now while it starts), 53 insufficient resources (too many connections),
            // 25006 read-only transaction: a primary demoted or not yet promoted at a failover, a hot
            // standby, default_transaction_read_only turned on. why 25006 with them: the store is
            // there but cannot take a write; an ack that failed on it was not retried and its job,
            // whose section had ended, stayed running until the stop gave it back to run again.
            String state = pg.getSqlState() == null ? "" : pg.getSqlState();
            return state.startsWith("08") || state.startsWith("57") || state.startsWith("53") || state.equals(READ_ONLY);
        }
        return !(cause instanceof JobStoreException) && !(cause instanceof IllegalArgumentException);
    }

    /**
     * Store context: runs {@code once} until it succeeds; after a lost connection it is tried again
     * (backing off to 2 s) while the store is open, and for {@link #RETRY_AFTER_CLOSE} after close.
     * {@code retried} tells the statement it is a retry (an ack may then have landed already).
     */
    private <T> Future<T> retrying(java.util.function.Function<Boolean, Future<T>> once) {
        Promise<T> promise = Promise.promise();
        attempt(once, false, 0, promise);
        return promise.future();
    }

    private <T> void attempt(java.util.function.Function<Boolean, Future<T>> once, boolean retried, int tries, Promise<T> promise) {
        once.apply(retried).onComplete(ar -> {
            if (ar.succeeded() || !isConnectionLoss(ar.cause()) || (closing
                    && System.nanoTime() - closingSinceNanos > RETRY_AFTER_CLOSE.toNanos())) {
                promise.handle(ar);
                return;
            }
            unreachable(ar.cause());
            vertx.setTimer(Math.min(2_000L, 100L << Math.min(tries, 5)), id -> attempt(once, true, tries + 1, promise));
        });
    }

    /**
     * Store context: runs an ack-like request counted in {@link #acksInFlight}. why: the pool runs
     * requests on several connections at once, so a later releaseOwned could otherwise commit
     * before an earlier ack and give back (to run again elsewhere) a job whose section had ended.
     */
    private <T> Future<T> ackLike(Supplier<Future<T>> work) {
        acksInFlight++;
        return work.get().andThen(ar -> {
            if (--acksInFlight == 0) {
                List<Promise<Void>> waiting = List.copyOf(acksSettled);
                acksSettled.clear();
                waiting.forEach(Promise::tryComplete);
            }
        });
    }

    /** Store context: completes once every claim sent before has been answered. */
    private Future<Void> claimsSettled() {
        if (claimsInFlight == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> promise = Promise.promise();
        claimsSettled.add(promise);
        return promise.future();
    }

    /** Store context: completes once every ack requested before has settled. */
    private Future<Void> acksSettled() {
        if (acksInFlight == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> promise = Promise.promise();
        acksSettled.add(promise);
        return promise.future();
    }

    private static OffsetDateTime at(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Instant instant(Row row, int column) {
        OffsetDateTime value = row.getOffsetDateTime(column);
        return value == null ? null : value.toInstant();
    }

    @Override
    public JobOwner owner() {
        return owner;
    }

    @Override
    public boolean shared() {
        return true;
    }

    /**
     * why 8: each claim is a round trip and a commit on a server every node shares; with short
     * sections a commit's worth of jobs is what the buffer must hold: 2 per worker made claims of
     * ~24 jobs for 64 workers and cut a claim-batch of 256 back to 64 (with 256: ~3x the jobs per
     * second, pg-where-time-goes.sh).
     */
    @Override
    public int claimsPerWorker() {
        return 8;
    }

    @Override
    public Future<List<Enqueued>> enqueue(List<NewJob> jobs) {
        List<NewJob> copy = List.copyOf(jobs);
        if (copy.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        return call(() -> {
            Instant now = clock.instant();
            int n = copy.size();
            String[] queues = new String[n];
            String[] payloads = new String[n];
            Integer[] maxAttempts = new Integer[n];
            OffsetDateTime[] runAts = new OffsetDateTime[n];
            String[] keys = new String[n];
            for (int i = 0; i < n; i++) {
                NewJob job = copy.get(i);
                queues[i] = job.queue();
                payloads[i] = job.payload();
                maxAttempts[i] = job.maxAttempts();
                runAts[i] = at(job.runAt());
                keys[i] = job.uniqueKey().orElse(null);
            }
            boolean notify = System.nanoTime() - lastNotifyNanos > NOTIFY_EVERY_NANOS;
            boolean keyed = copy.stream().anyMatch(job -> job.uniqueKey().isPresent());
            return inTransaction(c -> (keyed ? c.preparedQuery(SQL.get("lock-keys")).execute(Tuple.of((Object) keys))
                            : Future.<RowSet<Row>>succeededFuture())
                    .compose(locked -> c.preparedQuery(SQL.get("enqueue"))
                            .execute(Tuple.of(queues, payloads, maxAttempts, runAts, keys, at(now))))
                    .compose(rows -> results(c, copy, rows))
                    .compose(results -> notify ? notifyIfWasEmpty(c, copy, results, now).map(results)
                            : Future.succeededFuture(notifyLater(copy, results, now))))
                    .onSuccess(results -> {
                        copy.forEach(job -> readyAgain(job.queue(), job.runAt()));
                        if (results.stream().anyMatch(Enqueued::created)) {
                            fireListeners();
                        }
                    });
        });
    }

    /**
     * Maps the inserted rows back to the input: ids were drawn in input order, so the created
     * inputs take the returned ids in ascending order; the skipped ones (a key already kept, or
     * repeated in the batch) are looked up by key.
     */
    private static Future<List<Enqueued>> results(SqlClient c, List<NewJob> jobs, RowSet<Row> rows) {
        List<Long> ids = new ArrayList<>();
        Map<String, Long> insertedKeys = new HashMap<>();
        for (Row row : rows) {
            ids.add(row.getLong(0));
            if (row.getString(1) != null) {
                insertedKeys.put(row.getString(1), row.getLong(0));
            }
        }
        ids.sort(null);
        Set<String> seen = new HashSet<>();
        boolean[] created = new boolean[jobs.size()];
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            Optional<String> key = jobs.get(i).uniqueKey();
            if (key.isEmpty()) {
                created[i] = true;
            } else if (seen.add(key.get()) && insertedKeys.containsKey(key.get())) {
                created[i] = true;
            } else if (!insertedKeys.containsKey(key.get())) {
                missing.add(key.get());
            }
        }
        Future<Map<String, Long>> kept = missing.isEmpty() ? Future.succeededFuture(Map.of())
                : c.preparedQuery(SQL.get("find-by-keys")).execute(Tuple.of((Object) missing.toArray(String[]::new)))
                .map(found -> {
                    Map<String, Long> byKey = new HashMap<>();
                    found.forEach(row -> byKey.put(row.getString(1), row.getLong(0)));
                    return byKey;
                });
        return kept.map(byKey -> {
            List<Enqueued> results = new ArrayList<>(jobs.size());
            int next = 0;
            for (int i = 0; i < jobs.size(); i++) {
                if (created[i]) {
                    results.add(new Enqueued(ids.get(next++), true));
                } else {
                    String key = jobs.get(i).uniqueKey().orElseThrow();
                    Long id = insertedKeys.containsKey(key) ? insertedKeys.get(key) : byKey.get(key);
                    results.add(new Enqueued(id == null ? -1 : id, false));
                }
            }
            return results;
        });
    }

    /** Inside the enqueue's transaction: NOTIFY the other nodes for each queue that was empty before. */
    private Future<Void> notifyIfWasEmpty(SqlClient c, List<NewJob> jobs, List<Enqueued> results, Instant now) {
        Map<String, Long> firstIdPerQueue = firstDueIds(jobs, results, now);
        if (firstIdPerQueue.isEmpty()) {
            return Future.succeededFuture();
        }
        lastNotifyNanos = System.nanoTime();
        return notifyIfWasEmpty(c, firstIdPerQueue, now);
    }

    private static Future<Void> notifyIfWasEmpty(SqlClient c, Map<String, Long> firstIdPerQueue, Instant now) {
        Future<Void> chain = Future.succeededFuture();
        for (var entry : firstIdPerQueue.entrySet()) {
            chain = chain.compose(v -> c.preparedQuery(SQL.get("notify-if-was-empty"))
                    .execute(Tuple.of(entry.getKey(), entry.getValue(), at(now))).mapEmpty());
        }
        return chain;
    }

    /** Per queue, the id of the first job created by this enqueue that is due now. */
    private static Map<String, Long> firstDueIds(List<NewJob> jobs, List<Enqueued> results, Instant now) {
        Map<String, Long> firstIdPerQueue = new LinkedHashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            if (results.get(i).created() && !jobs.get(i).runAt().isAfter(now)) {
                firstIdPerQueue.putIfAbsent(jobs.get(i).queue(), results.get(i).id());
            }
        }
        return firstIdPerQueue;
    }

    /**
     * An enqueue within {@link #NOTIFY_EVERY_NANOS} of the last NOTIFY check: the check is made
     * once that window ends, after the enqueue committed (its first due job per queue kept, the
     * earliest of the window's). why not skip it: a queue emptied by a claim within the window and
     * filled again by this enqueue would wake no other node, and their idle workers would wait for
     * their poll (jobs.poll-interval, 1 s by default) with a job ready.
     */
    private List<Enqueued> notifyLater(List<NewJob> jobs, List<Enqueued> results, Instant now) {
        Map<String, Long> due = firstDueIds(jobs, results, now);
        if (due.isEmpty()) {
            return results;
        }
        boolean schedule;
        synchronized (notifyLaterFirstIds) {
            schedule = notifyLaterFirstIds.isEmpty();
            due.forEach((queue, id) -> notifyLaterFirstIds.merge(queue, id, Math::min));
        }
        if (schedule) {
            long waitNanos = lastNotifyNanos + NOTIFY_EVERY_NANOS - System.nanoTime();
            vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos) + 1), id -> notifyLaterNow());
        }
        return results;
    }

    private void notifyLaterNow() {
        Map<String, Long> due;
        synchronized (notifyLaterFirstIds) {
            due = new LinkedHashMap<>(notifyLaterFirstIds);
            notifyLaterFirstIds.clear();
        }
        if (closing || due.isEmpty()) {
            return;
        }
        lastNotifyNanos = System.nanoTime();
        // why only a debug line when it fails: the other nodes' poll finds the jobs anyway
        notifyIfWasEmpty(pool, due, clock.instant())
                .onFailure(e -> log.debug("deferred NOTIFY check for {} not sent: {}", due.keySet(), e.toString()));
    }

    @Override
    public Future<List<Job>> claim(String queue, int limit) {
        return claim(queue, limit, 0);
    }

    /**
     * {@inheritDoc} From this node's settings (the limits of its queue, jobs.limits.*). A queue
     * with a cluster-wide rate is claim-limited (under the queue's lock, tokens spent at the
     * claim; with a concurrency too, each claimed job holds a share of it until its ack, and those
     * acks are written one by one); a queue with a concurrency and no rate claims and acks as an
     * unlimited one, its limit held by slots (takeSlots), not by running rows.
     */
    @Override
    public Limiting limiting(String queue) {
        return settings.limits().filter(l -> l.queue().equals(queue))
                .map(l -> Limiting.of(l.concurrency(), l.rate())).orElse(Limiting.NONE);
    }

    @Override
    public Future<List<Job>> claim(String queue, int limit, int shard) {
        boolean limited = limiting(queue).claimsLimited();
        return call(() -> {
            if (sweepingStrays || releasingOwned) {
                answeredWithoutDatabase = true;
                return Future.succeededFuture(List.<Job>of());
            }
            claimsInFlight++;
            Tuple args = Tuple.of(owner.id(), queue, at(clock.instant()), (long) limit, settings.jobLease().toMillis());
            if (limited) {
                args.addInteger(shard).addLong(WAIT_FRESH.toMillis());
            }
            return claimOnce(queue, limited, args).andThen(this::claimAnswered);
        }).recover(e -> e.getCause() != null && isConnectionLoss(e.getCause())
                // why: the outage is reported once, not per claim; jobs a lost answer may have
                // claimed are given back at the next heartbeat (releaseStrays).
                ? Future.succeededFuture(List.of()) : Future.failedFuture(e));
    }

    /** Store context: a claim (or a handoff, which claims too) was answered. */
    private void claimAnswered(AsyncResult<?> ar) {
        if (--claimsInFlight == 0) {
            List<Promise<Void>> waiting = List.copyOf(claimsSettled);
            claimsSettled.clear();
            waiting.forEach(Promise::tryComplete);
        }
        if (ar.failed() && isConnectionLoss(ar.cause())) {
            // why: the commit may have landed with its answer lost (release-strays).
            straysPossible = true;
        }
    }

    @Override
    public Future<Slots> takeSlots(String queue, int wanted) {
        // why one statement (its own transaction, no BEGIN and COMMIT round trips): the queue's
        // row stays locked until the take commits, and every round trip made meanwhile is time
        // the other nodes' takes and limited claims wait; the function (schema 6) locks the row,
        // then counts the slots held in a snapshot taken after the lock was granted.
        return call(() -> pool.preparedQuery(SQL.get("slots-take"))
                .execute(Tuple.of(queue, owner.id(), wanted, WAIT_FRESH.toMillis()))
                .map(rows -> slots(rows, 1)));
    }

    @Override
    public Future<Slots> giveSlots(String queue, int count) {
        return call(() -> pool.preparedQuery(SQL.get("slots-give")).execute(Tuple.of(queue, owner.id(), count,
                WAIT_FRESH.toMillis())).map(rows -> slots(rows, -1)));
    }

    @Override
    public Future<Slots> lookAtSlots(String queue) {
        return read(() -> pool.preparedQuery(SQL.get("slots-look")).execute(Tuple.of(queue, owner.id(),
                WAIT_FRESH.toMillis())).map(rows -> slots(rows, 0)));
    }

    /** A slots-take/give/look answer (changed, notified, slots-state); {@code sign}: +1 take, -1 give, 0 look. */
    private static Slots slots(RowSet<Row> rows, int sign) {
        Row row = rows.iterator().next();
        int changed = number(row, 0);
        int before = number(row, 2);
        int held = sign > 0 ? before + changed : sign < 0 ? Math.max(0, before - changed) : before;
        return new Slots(sign == 0 ? 0 : changed, held, number(row, 3), number(row, 4), number(row, 5));
    }

    private static int number(Row row, int column) {
        Object value = row.getValue(column);
        return value == null ? 0 : ((Number) value).intValue();
    }

    @Override
    public void onSlotsWanted(Runnable listener) {
        slotListeners.add(listener);
    }

    @Override
    public boolean claimsSafe() {
        return System.nanoTime() - lastBeatNanos < unsafeAfterNanos();
    }

    @Override
    public long claimEpoch() {
        return claimEpoch;
    }

    /**
     * How old this node's last landed heartbeat may be while it starts what it claimed: its ttl less
     * one heartbeat interval, the others counting it dead at its ttl. why at most a quarter of the
     * ttl less: with node-ttl at twice the interval (the least allowed), less one interval left no
     * room for a heartbeat's own round trip, and the buffer went back at nearly every heartbeat.
     */
    private long unsafeAfterNanos() {
        long ttl = settings.nodeTtl().toNanos();
        return ttl - Math.min(settings.heartbeatInterval().toNanos(), ttl / 4);
    }

    /** Store context: one claim's statement(s). */
    private Future<List<Job>> claimOnce(String queue, boolean limited, Tuple args) {
        if (limited) {
            // why one statement (as takeSlots): the function locks the queue's row, then counts
            // running jobs in a snapshot taken after the lock was granted, in one round trip.
            return pool.preparedQuery(SQL.get("claim-limited")).execute(args).map(this::claimed);
        }
        ClaimCursor cursor = cursors.computeIfAbsent(queue, q -> new ClaimCursor());
        long begun = System.nanoTime();
        if (!cursor.fullDue(begun)) {
            return pool.preparedQuery(SQL.get("claim-after"))
                    .execute(args.addOffsetDateTime(at(cursor.afterRunAt())).addLong(cursor.afterId()))
                    .map(this::claimed).onSuccess(cursor::advance);
        }
        cursor.fullBegun();
        return pool.preparedQuery(SQL.get("claim")).execute(args).map(this::claimed).andThen(ar -> {
            cursor.fullEnded(begun, System.nanoTime());
            if (ar.succeeded()) {
                cursor.advance(ar.result());
            }
        });
    }

    /** Store context: this node made a job of {@code queue} ready at {@code runAt} (ClaimCursor). */
    private void readyAgain(String queue, Instant runAt) {
        ClaimCursor cursor = cursors.get(queue);
        if (cursor != null) {
            cursor.readyAgainAt(runAt);
        }
    }

    /** Store context: jobs of any queue may be ready behind the claim points (a rescue, an operator's retry). */
    private void readyAgainBehind() {
        cursors.values().forEach(ClaimCursor::readyAgainBehind);
    }

    /** A claimed job from the claim column list, starting at column {@code from}. */
    private Job jobAt(Row row, int from) {
        return new Job(row.getLong(from), row.getString(from + 1), row.getString(from + 2), row.getInteger(from + 3),
                row.getInteger(from + 4), instant(row, from + 5), JobState.RUNNING, Optional.ofNullable(row.getString(from + 7)),
                Optional.ofNullable(row.getString(from + 8)), ownerId, instant(row, from + 6), Optional.empty());
    }

        private List<Job> claimed(RowSet<Row> rows) {
        List<Job> jobs = new ArrayList<>(rows.size());
        for (Row row : rows) {
            jobs.add(jobAt(row, 0));
        }
        // why: RETURNING gives rows in no promised order; sections start oldest run-at first.
        jobs.sort(Comparator.comparing(Job::runAt).thenComparingLong(Job::id));
        jobs.forEach(job -> heldIds.add(job.id()));
        held.addAndGet(jobs.size());
        return jobs;
    }

    /**
     * A queue's cluster-wide limits and their use: [concurrency, running, rate, burst, tokens], or
     * empty when the queue has none.
     */
    public Future<Optional<LimitsView>> limitsOf(String queue) {
        return read(() -> pool.preparedQuery(SQL.get("limits-use")).execute(Tuple.of(queue)).map(rows -> {
            if (rows.size() == 0) {
                return Optional.<LimitsView>empty();
            }
            Row row = rows.iterator().next();
            return Optional.of(new LimitsView(queue, row.getInteger(0), row.getLong(4), row.getDouble(1), row.getDouble(2),
                    row.getDouble(3)));
        }));
    }

    /**
     * A queue's limits and their use at one moment. {@code running}: the slots the nodes hold when
     * the queue's concurrency is held by slots ({@link #bySlots}), else its running jobs.
     */
    public record LimitsView(String queue, int concurrency, long running, double rate, double burst, double tokens) {

        /** A concurrency and no rate: the limit is held by slots granted to nodes (shieldpool_slots). */
        public boolean bySlots() {
            return Limiting.of(concurrency, rate).slotsHeld();
        }
    }

    @Override
    public Future<Boolean> complete(Job claimed) {
        // why not batched on a queue with a rate and a concurrency: a slot is free only once its ack
        // has landed, and that queue's ack path is the limits' own (a rate alone frees nothing at an ack) (PostgresKillIT, limit 12 on 4 nodes, ran far slower
        // with batched acks, for a reason not found yet).
        boolean limited = limiting(claimed.queue()).acksFreeSlots();
        return call(() -> ackLike(() -> (limited ? completeOne(claimed) : acks.add(claimed)).andThen(ar -> settled(ar, claimed))))
                .onSuccess(done -> held.decrementAndGet());
    }

    /**
     * {@inheritDoc} The acks join the group commit as {@link #complete}'s do, in one request to
     * the store's thread and one answer back; those of a queue with a rate and a concurrency are
     * each written at once ({@link #complete}).
     */
    @Override
    public Future<AckResults> completeAll(List<Job> claimed) {
        if (claimed.isEmpty()) {
            return Future.succeededFuture(new AckResults(Set.of(), Set.of(), null));
        }
        String queue = claimed.get(0).queue();
        boolean groupedQueue = claimed.stream().allMatch(job -> job.queue().equals(queue))
                && !limiting(queue).acksFreeSlots();
        if (!groupedQueue) {
            return JobStore.super.completeAll(claimed);
        }
        List<Job> copy = List.copyOf(claimed);
        return call(() -> ackLike(() -> acks.addAll(copy).andThen(ar -> {
            if (ar.succeeded()) {
                for (Job job : copy) {
                    if (!ar.result().failed().contains(job.id())) {
                        heldIds.remove(job.id());
                    }
                }
            }
        }))).onSuccess(results -> held.addAndGet(-(copy.size() - results.failed().size())));
    }

    /**
     * Store context: the ack of one job of a limited queue, written at once (not batched): a batch
     * of one through the same statement and retries as every batched ack (complete-many, fenced
     * per row; a keyed job's key locked first).
     */
    private Future<Boolean> completeOne(Job claimed) {
        return writeAcks(List.of(claimed)).map(landed -> landed.contains(claimed.id()));
    }

    /**
     * Store context: writes one batch of acks (AckBatches: every ack that arrived while the
     * previous batch was written), retried after a lost connection as every ack is; answers the
     * ids of the jobs whose ack landed. On a retry, an ack that matches nothing may have landed on
     * the try whose answer was lost: state-of tells.
     */
    private Future<Set<Long>> writeAcks(List<Job> batch) {
        return retrying(retried -> moveToDone(batch).compose(moved -> !retried || moved.size() == batch.size()
                ? Future.succeededFuture(moved) : withLandedBefore(batch, moved)));
    }

    /**
     * The acks' statement: the jobs' rows move to shieldpool_jobs_done, each fenced on its own
     * attempt. why a transaction with the keys' locks first when a job has a key: an enqueue of the
     * same key holds that lock while it looks in both tables, so it never misses the key in
     * between (statements.sql, lock-keys).
     */
    private Future<Set<Long>> moveToDone(List<Job> batch) {
        int n = batch.size();
        Long[] ids = new Long[n];
        String[] owners = new String[n];
        Integer[] attempts = new Integer[n];
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Job job = batch.get(i);
            ids[i] = job.id();
            owners[i] = job.owner().orElse("");
            attempts[i] = job.attempt();
            job.uniqueKey().ifPresent(keys::add);
        }
        Tuple args = Tuple.of(at(clock.instant()), ids, owners, attempts);
        Future<RowSet<Row>> moved = keys.isEmpty() ? pool.preparedQuery(SQL.get("complete-many")).execute(args)
                : inTransaction(c -> c.preparedQuery(SQL.get("lock-keys")).execute(Tuple.of((Object) keys.toArray(String[]::new)))
                .compose(locked -> c.preparedQuery(SQL.get("complete-many")).execute(args)));
        return moved.map(rows -> {
            Set<Long> landed = new HashSet<>();
            rows.forEach(row -> landed.add(row.getLong(0)));
            return landed;
        });
    }

    /** A retried batch: adds the jobs whose ack matched nothing now but had landed on the lost try. */
    private Future<Set<Long>> withLandedBefore(List<Job> batch, Set<Long> moved) {
        List<Future<Boolean>> checks = new ArrayList<>();
        List<Job> unmatched = batch.stream().filter(job -> !moved.contains(job.id())).toList();
        unmatched.forEach(job -> checks.add(landedBefore(job)));
        return Future.all(checks).map(all -> {
            Set<Long> landed = new HashSet<>(moved);
            for (int i = 0; i < unmatched.size(); i++) {
                if (checks.get(i).result()) {
                    landed.add(unmatched.get(i).id());
                }
            }
            return landed;
        });
    }

    /** Tests: acks queue up unwritten until {@link #resumeAcksForTest} (to put chosen acks in one batch). */
    void holdAcksForTest() {
        await(call(() -> {
            acks.holdForTest();
            return Future.succeededFuture();
        }));
    }

    /** Tests: writes the acks that queued up while held. */
    void resumeAcksForTest() {
        await(call(() -> {
            acks.resumeForTest();
            return Future.succeededFuture();
        }));
    }

    /** Tests and benchmarks: [ack statements written, the most acks one of them held]. */
    public long[] ackBatchesForTest() {
        return await(call(() -> Future.succeededFuture(new long[] {acks.batchesWritten(), acks.largestBatch()})));
    }

    /** Store context: a request about {@code claimed} answered; once it landed, the job is no longer held. */
    private void settled(AsyncResult<?> ar, Job claimed) {
        if (ar.succeeded()) {
            heldIds.remove(claimed.id());
        }
    }

    /** A retried ack that matched nothing: the first try landed if the job is done at the same attempt. */
    private Future<Boolean> landedBefore(Job claimed) {
        return pool.preparedQuery(SQL.get("state-of")).execute(Tuple.of(claimed.id())).map(rows -> {
            if (rows.size() == 0) {
                return false;
            }
            Row row = rows.iterator().next();
            return row.getString(0).equals("done") && row.getInteger(1) == claimed.attempt();
        });
    }

    @Override
    public Future<FailOutcome> fail(Job claimed, String error, Instant retryAt) {
        return call(() -> ackLike(() -> retrying(retried -> pool.preparedQuery(SQL.get("fail"))
                .execute(Tuple.of(at(retryAt), at(clock.instant()), error, claimed.id(), claimed.owner().orElse(""),
                        claimed.attempt()))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return FailOutcome.FENCED;
                    }
                    Row row = rows.iterator().next();
                    if (row.getString(0).equals("dead")) {
                        return FailOutcome.DEAD;
                    }
                    readyAgain(claimed.queue(), instant(row, 1));
                    return FailOutcome.retryAt(instant(row, 1));
                })).andThen(ar -> settled(ar, claimed))))
                .onSuccess(outcome -> held.decrementAndGet());
    }

    @Override
    public Future<Integer> release(List<Job> claimed, boolean countAttempt) {
        List<Job> copy = List.copyOf(claimed);
        if (copy.isEmpty()) {
            return Future.succeededFuture(0);
        }
        // why: one statement per owner (a store only ever holds its own jobs, but a Job says whose it is).
        Map<String, List<Job>> byOwner = new LinkedHashMap<>();
        copy.forEach(job -> byOwner.computeIfAbsent(job.owner().orElse(""), o -> new ArrayList<>()).add(job));
        return call(() -> ackLike(() -> retrying(retried -> {
            Instant now = clock.instant();
            // uncounted: back at its own run-at, behind this node's claim point; counted: ready now
            copy.forEach(job -> readyAgain(job.queue(), countAttempt ? now : job.runAt()));
            Future<Integer> total = Future.succeededFuture(0);
            for (var entry : byOwner.entrySet()) {
                Long[] ids = entry.getValue().stream().map(Job::id).toArray(Long[]::new);
                Integer[] attempts = entry.getValue().stream().map(Job::attempt).toArray(Integer[]::new);
                String error = "attempt was cut by the shutdown grace cap";
                Tuple args = countAttempt ? Tuple.of(at(now), error, ids, entry.getKey(), attempts)
                        : Tuple.of(ids, entry.getKey(), attempts);
                String name = countAttempt ? "release-counted" : "release-uncounted";
                total = total.compose(sofar -> pool.preparedQuery(SQL.get(name)).execute(args)
                        .map(rows -> sofar + rows.rowCount()));
            }
            return total.andThen(ar -> copy.forEach(job -> settled(ar, job)));
        }))).onSuccess(moved -> {
            held.addAndGet(-copy.size());
            if (moved > 0) {
                fireListeners();
            }
        });
    }

    /**
     * At a daemon's start: the nodes of this host whose process is gone (a same-host restart
     * after a crash: no need to wait for their ttl) are marked stopped, then every running job of
     * a dead or stopped node, or past its lease, is made ready again (dead when that attempt was
     * its last). why the pid check is safe: a node id carries host and pid; on this host, a pid
     * that no longer runs, that is ours, or whose process started after the node registered,
     * cannot be that node. (Host names must therefore be unique per pid namespace, as container
     * host names are.)
     */
    @Override
    public Future<List<RecoveredJob>> recoverOrphans() {
        return call(() -> pool.preparedQuery(SQL.get("same-host-nodes")).execute(Tuple.of(owner.host(), owner.id()))
                .compose(rows -> {
                    List<String> gone = new ArrayList<>();
                    for (Row row : rows) {
                        if (processGone(row.getLong(1), row.getLong(2))) {
                            gone.add(row.getString(0));
                        }
                    }
                    Future<Void> marked = Future.succeededFuture();
                    for (String id : gone) {
                        marked = marked.compose(v -> pool.preparedQuery(SQL.get("node-stopped"))
                                .execute(Tuple.of(id, WAIT_FRESH.toMillis())).mapEmpty());
                    }
                    return marked;
                })
                // why not after an outage: see beat(); the nodes just marked stopped are rescued by the first heartbeat after it.
                .compose(v -> cutOffLately() ? Future.succeededFuture(List.<RecoveredJob>of()) : rescue(false))
                .map(list -> list.stream().filter(r -> !r.owner().equals(owner.id())).toList()));
    }

    private static boolean processGone(long pid, long registeredAtMillis) {
        if (pid == ProcessHandle.current().pid()) {
            return true;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive()) {
            return true;
        }
        Optional<Instant> started = process.get().info().startInstant();
        // why: 2 s of slack for the node registering right after its process started.
        return started.isPresent() && started.get().toEpochMilli() > registeredAtMillis + 2_000;
    }

    @Override
    public Future<Integer> releaseOwned() {
        return call(() -> {
            releasingOwned = true;
            return acksSettled().compose(v -> claimsSettled())
                    .compose(v -> retrying(retried -> pool.preparedQuery(SQL.get("release-owned"))
                            .execute(Tuple.of(owner.id())).map(RowSet::rowCount)))
                    .andThen(ar -> {
                        if (ar.succeeded()) {
                            heldIds.clear();
                        }
                    });
        }).onSuccess(moved -> {
            held.set(0);
            if (moved > 0) {
                fireListeners();
            }
        });
    }

    @Override
    public Future<List<QueueStats>> stats(List<String> alwaysShown) {
        List<String> shown = List.copyOf(alwaysShown);
        return read(() -> {
            Instant now = clock.instant();
            return pool.preparedQuery(SQL.get("stats")).execute(Tuple.of(at(now))).map(rows -> {
                QueueStats.Tally tally = new QueueStats.Tally(now, shown);
                for (Row row : rows) {
                    tally.add(row.getString(0), JobState.of(row.getString(1)), row.getLong(2),
                            Optional.ofNullable(instant(row, 3)));
                }
                return tally.result();
            });
        });
    }

    @Override
    public Future<List<Job>> list(Optional<JobState> state, Optional<String> queue, int limit) {
        return read(() -> pool.preparedQuery(SQL.get("list")).execute(Tuple.of(state.map(JobState::label).orElse(null),
                queue.orElse(null), (long) limit)).map(rows -> {
            List<Job> jobs = new ArrayList<>();
            rows.forEach(row -> jobs.add(fullRow(row)));
            return jobs;
        }));
    }

    @Override
    public Future<Optional<Job>> find(long id) {
        return read(() -> pool.preparedQuery(SQL.get("find")).execute(Tuple.of(id)).map(rows ->
                rows.size() == 0 ? Optional.<Job>empty() : Optional.of(fullRow(rows.iterator().next()))));
    }

    /** A row of the find/list column list. */
    private static Job fullRow(Row row) {
        return new Job(row.getLong(0), row.getString(1), row.getString(2), row.getInteger(3), row.getInteger(4),
                instant(row, 5), JobState.of(row.getString(9)), Optional.ofNullable(row.getString(7)),
                Optional.ofNullable(row.getString(8)), Optional.ofNullable(row.getString(10)), instant(row, 6),
                Optional.ofNullable(instant(row, 11)));
    }

    /** The cluster view: every node's row ({@code shieldpool status}, the status page). */
    public Future<List<NodeView>> nodes() {
        return read(() -> pool.preparedQuery(SQL.get("nodes")).execute().map(rows -> {
            List<NodeView> nodes = new ArrayList<>();
            for (Row row : rows) {
                String state = row.getString(3);
                boolean alive = Boolean.TRUE.equals(row.getBoolean(5));
                nodes.add(new NodeView(row.getString(0), row.getString(1), row.getLong(2),
                        state.equals("stopped") ? "stopped" : alive ? state : "dead",
                        Duration.ofMillis(row.getNumeric(4).longValue()), row.getInteger(6),
                        Duration.ofMillis(row.getNumeric(7).longValue()), Duration.ofMillis(row.getNumeric(8).longValue())));
            }
            return nodes;
        }));
    }

    @Override
    public Future<Boolean> retry(long id) {
        return call(() -> pool.preparedQuery(SQL.get("retry")).execute(Tuple.of(at(clock.instant()), id))
                .map(rows -> {
                    readyAgainBehind();
                    return rows.rowCount() == 1;
                })).onSuccess(done -> {
            if (done) {
                fireListeners();
            }
        });
    }

    @Override
    public Future<Integer> retryDead(Optional<String> queue) {
        return call(() -> pool.preparedQuery(SQL.get("retry-dead")).execute(Tuple.of(at(clock.instant()), queue.orElse(null)))
                .map(rows -> {
                    readyAgainBehind();
                    return rows.rowCount();
                })).onSuccess(n -> {
            if (n > 0) {
                fireListeners();
            }
        });
    }

    @Override
    public Future<Integer> purge(JobState state, Instant finishedBefore) {
        if (state != JobState.DONE && state != JobState.DEAD) {
            return Future.failedFuture(new IllegalArgumentException("only done and dead jobs are purged, not " + state.label()));
        }
        return call(() -> purgeChunks(state == JobState.DONE ? "purge-done" : "purge-dead", finishedBefore, 0));
    }

    private Future<Integer> purgeChunks(String statement, Instant finishedBefore, int sofar) {
        return pool.preparedQuery(SQL.get(statement)).execute(Tuple.of(at(finishedBefore), (long) PURGE_CHUNK))
                .compose(rows -> {
                    // purge-done answers [most deleted from one table, total]; purge-dead is a plain DELETE
                    long most = rows.size() == 1 ? rows.iterator().next().getLong(0) : rows.rowCount();
                    long deleted = rows.size() == 1 ? rows.iterator().next().getLong(1) : rows.rowCount();
                    int total = sofar + (int) deleted;
                    return most < PURGE_CHUNK ? Future.succeededFuture(total) : purgeChunks(statement, finishedBefore, total);
                });
    }

    @Override
    public void onJobsAvailable(Runnable listener) {
        listeners.add(listener);
    }

    private void fireListeners() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.warn("job store listener failed: {}", e.toString());
            }
        }
    }

    /**
     * Finishes what was requested before (acks still being retried get {@link #RETRY_AFTER_CLOSE}),
     * marks this node stopped (its remaining jobs, if any, are rescued at once by any node), then
     * closes the connections and the store's event loop.
     */
    @Override
    public Future<Void> close() {
        if (closing) {
            return drained.future().transform(ar -> Future.<Void>succeededFuture());
        }
        closingSinceNanos = System.nanoTime();
        closing = true;
        if (pending.get() == 0) {
            drained.tryComplete();
        }
        Promise<Void> closed = Promise.promise();
        Context caller = Vertx.currentContext();
        drained.future().onComplete(v -> context.runOnContext(x -> {
            if (heartbeatTimer >= 0) {
                vertx.cancelTimer(heartbeatTimer);
            }
            Future<Void> stopped = daemon ? pool.preparedQuery(SQL.get("node-stopped"))
                    .execute(Tuple.of(owner.id(), WAIT_FRESH.toMillis())).<Void>mapEmpty().recover(e -> Future.succeededFuture()) : Future.succeededFuture();
            stopped.compose(y -> subscriber == null ? Future.<Void>succeededFuture() : subscriber.close().recover(e -> Future.succeededFuture()))
                    .compose(y -> pool.close().recover(e -> Future.succeededFuture()))
                    .onComplete(y -> {
                        // why: close Vert.x from another thread; its own event loop cannot wait for itself.
                        Thread.ofPlatform().daemon().name("shieldpool-jobs-pg-close").start(() -> {
                            try {
                                vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
                            } catch (Exception ignored) {
                                // closing anyway
                            }
                            if (caller == null) {
                                closed.tryComplete();
                            } else {
                                caller.runOnContext(z -> closed.tryComplete());
                            }
                        });
                    });
        }));
        return closed.future();
    }

    /**
     * One node of the cluster view.
     *
     * @param id           host/pid/run
     * @param state        running, draining, stopped, or dead (heartbeat older than its ttl)
     * @param heartbeatAge time since its last heartbeat
     * @param inFlight     jobs it held at its last heartbeat (running sections and claimed, unstarted jobs);
     *                     for a dead node, its running rows now (0 once they were rescued)
     * @param ttl          a heartbeat older than this makes it dead
     * @param up           time since it registered
     */
    public record NodeView(String id, String host, long pid, String state, Duration heartbeatAge, int inFlight,
                           Duration ttl, Duration up) {
    }
}
