package io.shieldpool.systemd;

import io.shieldpool.view.PoolListener;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShutdownReport;
import io.shieldpool.view.PoolView;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Tells systemd what the pool is doing, through {@code $NOTIFY_SOCKET} ({@code sd_notify}):
 * <ul>
 *   <li>{@code READY=1} once the pool is running (so {@code systemctl start} returns then);</li>
 *   <li>{@code STATUS=} kept current: workers, busy, sections done; the drain's progress; a reload
 *       that failed;</li>
 *   <li>{@code RELOADING=1} with {@code MONOTONIC_USEC=} when a reload (SIGHUP) begins and
 *       {@code READY=1} when it ends, and {@code ERRNO=} when the file was rejected: systemd shows
 *       the unit "reloading" meanwhile, also for a SIGHUP sent by hand (the packaged unit's
 *       {@code systemctl reload} waits through {@code shieldpool reload}, which also fails it on a
 *       rejected file; {@code Type=notify-reload} would work too, on systemd >= 253);</li>
 *   <li>{@code STOPPING=1} when the drain begins, then {@code EXTEND_TIMEOUT_USEC=} repeated while it
 *       makes progress within {@code shutdown.grace} (see {@link DrainExtension});</li>
 *   <li>{@code WATCHDOG=1} while the pool is healthy, when systemd asked for a watchdog (see
 *       {@link Watchdog}).</li>
 * </ul>
 * Without {@code NOTIFY_SOCKET} none of this exists. Callbacks run on the supervisor's context and
 * only send non-blocking datagrams.
 */
public final class SystemdNotifier implements PoolListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

    /** How often the STATUS line is refreshed while the pool runs (sent only when it changed). */
    static final Duration STATUS_EVERY = Duration.ofSeconds(2);
    /** EINVAL: what a rejected configuration file is, as errno words it. */
    private static final int EINVAL = 22;

    private final NotifySocket socket;
    private final Vertx vertx;
    private final PoolView pool;
    /** What is wrong with the job store now (lost, not answering), put in front of the STATUS line; empty when nothing is. */
    private final Supplier<Optional<String>> storeTrouble;
    private final Optional<Watchdog> watchdog;
    private final long statusTimer;
    private volatile long drainTimer = -1;
    private volatile boolean draining;
    private volatile boolean stopped;
    private volatile boolean lastReloadFailed;
    private volatile String lastStatus = "";

    private SystemdNotifier(NotifySocket socket, Vertx vertx, PoolView pool, Supplier<Optional<String>> storeTrouble,
                            Optional<Duration> watchdogInterval) {
        this.socket = socket;
        this.vertx = vertx;
        this.pool = pool;
        this.storeTrouble = storeTrouble;
        this.watchdog = watchdogInterval.map(interval -> new Watchdog(socket, new PoolHealth(pool), interval));
        this.statusTimer = vertx.setPeriodic(STATUS_EVERY.toMillis(), id -> refreshStatus());
    }

    /**
     * Connects the pool to systemd when {@code env} has {@code NOTIFY_SOCKET}; pass the notifier
     * among the supervisor's listeners. Starts the watchdog when {@code WATCHDOG_USEC} asks.
     *
     * @param env          the process environment ({@code System.getenv()})
     * @param storeTrouble what is wrong with the job store now, if anything ("job store lost: ...",
     *                     "job store not answering"): shown in front of the pool's STATUS line, as
     *                     /readyz reports it; {@code Optional::empty} without a job store
     * @return the notifier, to be one of the supervisor's listeners; empty when systemd is not listening
     */
    public static Optional<SystemdNotifier> attach(Map<String, String> env, Vertx vertx, PoolView pool,
                                                   Supplier<Optional<String>> storeTrouble) {
        String address = env.get("NOTIFY_SOCKET");
        // why: checked before NotifySocket is touched: its class links the FFM downcalls, which
        // loads ~300 JDK classes (several MB resident) that a daemon outside systemd never uses.
        if (address == null || address.isEmpty()) {
            return Optional.empty();
        }
        Optional<NotifySocket> socket = NotifySocket.open(address);
        if (socket.isEmpty()) {
            return Optional.empty();
        }
        long pid = ProcessHandle.current().pid();
        SystemdNotifier notifier = new SystemdNotifier(socket.get(), vertx, pool, storeTrouble, Watchdog.requested(env, pid));
        log.atInfo().addKeyValue("event", "systemd.notify").addKeyValue("socket", socket.get().address())
                .log("reporting to systemd through NOTIFY_SOCKET {}", socket.get().address());
        notifier.watchdog.ifPresent(Watchdog::start);
        return Optional.of(notifier);
    }

    /**
     * Sends one {@code STATUS=} line before the notifier exists (the daemon waiting at start for
     * its job store's server); does nothing without {@code NOTIFY_SOCKET}.
     */
    public static void statusBeforeStart(Map<String, String> env, String status) {
        String address = env.get("NOTIFY_SOCKET");
        if (address == null || address.isEmpty()) {
            return;
        }
        NotifySocket.open(address).ifPresent(socket -> {
            socket.send("STATUS=" + status);
            socket.close();
        });
    }

    @Override
    public void ready(int workers) {
        // why: MAINPID is ours already when the launcher execs java; said anyway, so a unit that
        // wraps the launcher without exec (and sets NotifyAccess=all) still tracks the JVM.
        send("READY=1\nMAINPID=" + ProcessHandle.current().pid() + "\nSTATUS=" + workers + "/" + workers
                + " workers, starting their first sections");
    }

    @Override
    public void reloadBegan() {
        send("RELOADING=1\nMONOTONIC_USEC=" + NotifySocket.monotonicMicros() + "\nSTATUS=reloading the configuration");
    }

    @Override
    public void reloadEnded(boolean applied, String summary) {
        if (draining) {
            return; // the stop job has replaced the reload job: READY=1 now would contradict STOPPING=1
        }
        lastReloadFailed = !applied;
        if (applied) {
            send("READY=1\nSTATUS=reloaded (" + summary + ")");
        } else {
            send("READY=1\nERRNO=" + EINVAL + "\nSTATUS=" + StatusLine.afterFailedReload("running on the previous config"));
        }
        lastStatus = "";
    }

    @Override
    public void resized(int from, int to) {
        refreshStatus();
    }

    @Override
    public void drainBegan(String signal, long inFlight, Duration grace) {
        draining = true;
        long graceMs = grace.toMillis();
        send("STOPPING=1\nSTATUS=draining: " + inFlight + " section" + (inFlight == 1 ? "" : "s") + " left, "
                + (graceMs + 999) / 1000 + "s of grace left");
        extendIfProgressing();
        drainTimer = vertx.setPeriodic(DrainExtension.EVERY.toMillis(), id -> extendIfProgressing());
    }

    @Override
    public void stopped(ShutdownReport report) {
        int code = report.exitCode().code;
        var totals = report.totals();
        send("STATUS=stopped: " + totals.completed() + " completed, " + totals.failed() + " failed, "
                + totals.abandoned() + " abandoned; exit code " + code + (code == 0 ? "" : "\nEXIT_STATUS=" + code));
        close();
    }

    /** Stops the timers and the watchdog and closes the socket; idempotent. */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        vertx.cancelTimer(statusTimer);
        if (drainTimer >= 0) {
            vertx.cancelTimer(drainTimer);
        }
        watchdog.ifPresent(Watchdog::close);
        socket.close();
    }

    private void refreshStatus() {
        if (stopped) {
            return;
        }
        pool.status(0).onSuccess(status -> {
            String line = StatusLine.of(status);
            if (lastReloadFailed && !draining) {
                line = StatusLine.afterFailedReload(line);
            }
            // why: systemctl status showed "4/4 workers, 0 busy" while /readyz said 503 (a removed
            // SQLite file, a database that does not answer): the operator's first look missed it.
            Optional<String> trouble = storeTrouble.get();
            if (trouble.isPresent()) {
                line = trouble.get() + "; " + line;
            }
            if (!line.equals(lastStatus)) {
                lastStatus = line;
                send("STATUS=" + line);
            }
        });
    }

    /** One look at the drain: extend systemd's stop timeout if it is progressing within the grace. */
    private void extendIfProgressing() {
        if (stopped) {
            return;
        }
        Future<PoolStatus> status = pool.status(0);
        Future<Optional<WorkerStatus>> slowest = pool.slowestBusyWorker();
        Future.all(status, slowest).onSuccess(both -> {
            Optional<PoolStatus.DrainProgress> drain = status.result().drain();
            if (drain.isEmpty() || stopped) {
                return;
            }
            long sinceProgress = slowest.result().map(WorkerStatus::sinceProgressMs).orElse(0L);
            OptionalLong extension = DrainExtension.extensionMicros(drain.get().graceLeftMs(), drain.get().sectionsLeft(),
                    sinceProgress, pool.stallAfter());
            String line = StatusLine.of(status.result());
            if (extension.isPresent()) {
                send("EXTEND_TIMEOUT_USEC=" + extension.getAsLong() + "\nSTATUS=" + line);
            } else {
                send("STATUS=" + line);
            }
            lastStatus = line;
        });
    }

    private void send(String message) {
        if (!stopped) {
            socket.send(message);
        }
    }
}
