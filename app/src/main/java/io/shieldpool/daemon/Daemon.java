package io.shieldpool.daemon;

import io.shieldpool.config.ConfigSource;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.admin.AdminServer;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.runtime.DurableJobs;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.runtime.JobsEndpoints;
import io.shieldpool.view.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.view.PoolListener;
import io.shieldpool.view.ShutdownReport;
import io.shieldpool.control.Supervisor;
import io.shieldpool.runtime.StateFileWriter;
import io.shieldpool.systemd.SystemdNotifier;
import io.shieldpool.kinds.KindRuntime;
import io.shieldpool.kinds.PreparedKind;
import io.shieldpool.view.PoolView;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One run of the daemon process, start to exit code: Vert.x up, the admin server and the supervisor
 * deployed, wait for the supervisor to report that the pool has stopped, and only then close
 * Vert.x. The order is the whole point: {@code vertx.close()} interrupts and undeploys without
 * waiting for anyone's work, so it must never run while a section is in flight.
 *
 * <p>Start is one chain ({@link #start}); whatever way it ends (the pool stopped, the admin port
 * taken, a failure) the run goes through the one teardown ({@link #tearDown}): signals quieted,
 * the work kind shut down (no command of the exec kind outlives the daemon), systemd told, Vert.x
 * closed.
 */
public final class Daemon {

    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    /** How long Vert.x may take to close once the pool has stopped; it normally takes a few ms. */
    private static final long CLOSE_TIMEOUT_SECONDS = 5;

    private final EffectiveConfig effective;
    private final ShieldpoolConfig config;
    private final ConfigSource configSource;
    private final SignalSource signals;
    private final String version;
    private final PreparedKind kind;

    /**
     * @param effective    the validated config to start with
     * @param configSource reads it again on SIGHUP
     * @param signals      the trapped signals
     * @param version      shown in the start-up line
     * @param kind         the configured work kind, its preflight passed
     */
    public Daemon(EffectiveConfig effective, ConfigSource configSource, SignalSource signals, String version,
                  PreparedKind kind) {
        this.effective = effective;
        this.config = effective.config();
        this.configSource = configSource;
        this.signals = signals;
        this.version = version;
        this.kind = kind;
    }

    /** Runs until the pool has stopped; returns the exit code. */
    public ExitCode run() {
        LogSetup.apply(config.log());
        logEffectiveConfig();
        IgnoredSignals.warn(signals.ignoredAtStart());
        var supervisorRef = new java.util.concurrent.atomic.AtomicReference<Supervisor>();
        Optional<DurableJobs> jobs;
        StartupWait startupWait = new StartupWait(signals, System.getenv());
        try {
            // why before Vert.x and the admin port: a second daemon on the same store must refuse
            // at once, and a dead predecessor's jobs are ready again before this one reports ready.
            jobs = config.jobs().enabled() ? Optional.of(DurableJobs.open(
                    () -> supervisorRef.get() == null ? config : supervisorRef.get().currentConfig(), Clock.systemUTC(),
                    startupWait)) : Optional.empty();
        } catch (JobStoreException e) {
            startupWait.over();
            if (startupWait.stopRequested()) {
                return stoppedBeforeStart(startupWait);
            }
            // why 69 for a store that stopped answering after the wait (between the migration and the node's
            // row): systemd restarts a 69, not a 78, and a restart is what an outage needs.
            ExitCode code = e.kind() == JobStoreException.Kind.IN_USE || e.kind() == JobStoreException.Kind.UNREACHABLE
                    ? ExitCode.UNAVAILABLE : ExitCode.CONFIG;
            log.atError().addKeyValue("event", "jobs.failed").addKeyValue("error", e.getMessage())
                    .log("{}; not started (exit {})", e.getMessage(), code.code);
            return code;
        }
        startupWait.over();
        if (startupWait.stopRequested()) {
            // the store answered just as a stop was asked for: nothing has started, nothing to drain
            jobs.ifPresent(DurableJobs::close);
            return stoppedBeforeStart(startupWait);
        }
        Vertx vertx = Vertx.vertx(new VertxOptions()
                // why: one loop per shard plus one for the supervisor (and one for the admin
                // server, deployed first so it gets its own), so the manager and the admin
                // endpoints stay responsive however busy the workers are.
                .setEventLoopPoolSize(config.pool().eventLoops() + 1 + (config.admin().enabled() ? 1 : 0))
                .setWorkerPoolSize(4)
                .setInternalBlockingPoolSize(2)
                // why: the daemon serves no files; without the classpath file cache Vert.x neither
                // creates a cache directory at start (ProtectSystem=strict friendly) nor deletes it
                // on close, which cost time between the last section and the exit.
                .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false)));
        KindRuntime kinds = kind.start(vertx);
        Supervisor supervisor = new Supervisor(effective, configSource, kinds, signals);
        supervisorRef.set(supervisor);
        jobs.ifPresent(j -> {
            j.start(vertx);
            supervisor.useJobs(j::feedFor);
            // why: the pool has stopped, so every ack is queued: the store commits them, gives back
            // what was claimed and never started, and closes (dropping its lock) before the report.
            supervisor.beforeReport(j::close);
        });
        // Nothing without NOTIFY_SOCKET; a listener from the first piece of news, so READY=1 cannot be missed.
        Optional<SystemdNotifier> systemd = SystemdNotifier.attach(System.getenv(), vertx, supervisor.view(),
                () -> jobs.flatMap(j -> j.store().lost().map(why -> "JOB STORE LOST: " + why)
                        .or(() -> j.store().reachable() ? Optional.empty() : Optional.of("job store not answering"))));
        // What `shieldpool reload` reads to learn whether the reload it asked for was applied.
        StateFileWriter stateFile = StateFileWriter.open(System.getenv());
        ExitCode exitCode;
        try {
            exitCode = start(vertx, supervisor, kinds, systemd, jobs, stateFile);
        } catch (Exception e) {
            log.atError().addKeyValue("event", "start.failed").setCause(e)
                    .log("could not start the pool: {}", e.toString());
            exitCode = ExitCode.INTERNAL;
        }
        // a no-op unless the pool never reached its report (start failed, admin port taken)
        jobs.ifPresent(DurableJobs::close);
        tearDown(vertx, kinds, systemd, stateFile);
        return exitCode;
    }

    private static ExitCode stoppedBeforeStart(StartupWait wait) {
        log.atInfo().addKeyValue("event", "start.stopped").addKeyValue("signal", "SIG" + wait.stopSignal())
                .log("SIG{} while waiting for the job store: stopped before the pool started (exit 0)", wait.stopSignal());
        return ExitCode.OK;
    }

    /** The start chain: admin server, then the supervisor; returns once the pool has stopped. */
    private ExitCode start(Vertx vertx, Supervisor supervisor, KindRuntime kinds, Optional<SystemdNotifier> systemd,
                           Optional<DurableJobs> jobs, StateFileWriter stateFile) throws Exception {
        List<PoolListener> listeners = new ArrayList<>();
        // First: the other nodes of a shared store see this one draining as soon as it is.
        jobs.ifPresent(j -> listeners.add(new PoolListener() {
            @Override
            public void drainBegan(String signal, long inFlight, java.time.Duration grace) {
                j.drainBegan();
            }
        }));
        systemd.ifPresent(listeners::add);
        // After systemd's: READY=1 (the end of a reload) is sent before the file says so.
        listeners.add(stateFile);
        // The jobs' live keys (poll interval, retention) take effect at once, not when the timers set under the old values run out.
        jobs.ifPresent(j -> listeners.add(new PoolListener() {
            @Override
            public void reloadEnded(boolean applied, String summary) {
                if (applied) {
                    j.configChanged();
                }
            }
        }));
        if (config.admin().enabled()) {
            // The admin server answers from before `ready` to the end of the drain; it closes
            // with Vert.x, after the pool has stopped.
            Optional<AdminServer> admin = startAdmin(vertx, supervisor.view(), kinds, jobs);
            if (admin.isEmpty()) {
                return ExitCode.UNAVAILABLE;
            }
            listeners.add(admin.get());
        }
        supervisor.deploy(vertx, listeners).await(60, TimeUnit.SECONDS);
        return supervisor.finished().await().exitCode();
    }

    private Optional<AdminServer> startAdmin(Vertx vertx, PoolView view, KindRuntime kinds, Optional<DurableJobs> jobs) {
        var settings = config.admin();
        AdminServer server = new AdminServer(settings, view, version);
        server.useMeters(kinds::bindMeters);
        jobs.ifPresent(j -> server.useJobs(new JobsEndpoints(j)));
        try {
            vertx.deployVerticle(server).await(30, TimeUnit.SECONDS);
            return Optional.of(server);
        } catch (Exception e) {
            log.atError().addKeyValue("event", "admin.failed").addKeyValue("host", settings.host())
                    .addKeyValue("port", settings.port()).addKeyValue("error", String.valueOf(e.getMessage()))
                    .log("cannot serve the admin endpoints on {}:{}: {}; free the port, set shieldpool.admin.port "
                                    + "(or .host), or set shieldpool.admin.enabled = false; not started (exit {})",
                            settings.host(), settings.port(), e.getMessage(), ExitCode.UNAVAILABLE.code);
            return Optional.empty();
        }
    }

    /** The one way out, whatever happened before; each step runs even if the one before it failed. */
    private void tearDown(Vertx vertx, KindRuntime kinds, Optional<SystemdNotifier> systemd, StateFileWriter stateFile) {
        // why: a signal from here on finds the supervisor's context closing; it is acknowledged
        // quietly instead of being handed to an event loop that rejects it.
        signals.attach(name -> log.atDebug().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIG" + name).addKeyValue("state", "exiting")
                .log("SIG{} ignored: the daemon is exiting", name));
        try {
            // why: after a cut, commands of the exec kind may still run; none may outlive the daemon.
            kinds.shutdown();
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("event", "kind.shutdown-failed").addKeyValue("error", e.toString())
                .log("the work kind did not shut down cleanly: {}", e.toString());
        }
        systemd.ifPresent(SystemdNotifier::close);
        stateFile.close();
        closeQuietly(vertx);
    }

    private void closeQuietly(Vertx vertx) {
        log.atDebug().addKeyValue("event", "vertx.closing").log("closing Vert.x");
        try {
            vertx.close().await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            log.atDebug().addKeyValue("event", "vertx.closed").log("Vert.x closed");
        } catch (Exception e) {
            log.atWarn().addKeyValue("event", "vertx.close-failed").addKeyValue("error", e.toString())
                .log("Vert.x did not close cleanly within {} s: {}", CLOSE_TIMEOUT_SECONDS, e.toString());
        }
    }

    private void logEffectiveConfig() {
        var line = log.atInfo().addKeyValue("event", "config")
                .addKeyValue("file", config.source().map(Object::toString).orElse("(none: embedded defaults)"));
        // Secrets are already masked in the effective config.
        effective.values().forEach(line::addKeyValue);
        line.log("shieldpool {} starting (pid {})", version, ProcessHandle.current().pid());
    }
}
