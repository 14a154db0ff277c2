package io.shieldpool.daemon;

import io.shieldpool.config.ConfigSource;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.admin.AdminServer;
import io.shieldpool.admin.PoolProbe;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.lifecycle.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.supervisor.PoolListener;
import io.shieldpool.supervisor.ShutdownReport;
import io.shieldpool.supervisor.Supervisor;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.runtime.StateFileWriter;
import io.shieldpool.systemd.SystemdNotifier;
import io.shieldpool.work.WorkKinds;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One run of the daemon process, start to exit code: Vert.x up, the supervisor deployed, wait
 * for it to report that the pool has stopped, and only then close Vert.x. The order is the whole
 * point: {@code vertx.close()} interrupts and undeploys without waiting for anyone's work, so it
 * must never run while a section is in flight (the seed's bug, where the loop closed first).
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
    private final Optional<SectionPlugin> plugin;

    /**
     * @param effective    the validated config to start with
     * @param configSource reads it again on SIGHUP
     * @param signals      the trapped signals
     * @param version      shown in the start-up line
     */
    public Daemon(EffectiveConfig effective, ConfigSource configSource, SignalSource signals, String version) {
        this(effective, configSource, signals, version, Optional.empty());
    }

    /**
     * @param plugin the plug-in work.type names, already loaded (see {@link io.shieldpool.work.WorkPreflight})
     */
    public Daemon(EffectiveConfig effective, ConfigSource configSource, SignalSource signals, String version,
                  Optional<SectionPlugin> plugin) {
        this.plugin = plugin;
        this.effective = effective;
        this.config = effective.config();
        this.configSource = configSource;
        this.signals = signals;
        this.version = version;
    }

    /** Runs until the pool has stopped; returns the exit code. */
    public ExitCode run() {
        LogSetup.apply(config.log());
        logEffectiveConfig();
        boolean admin = config.admin().enabled();
        Vertx vertx = Vertx.vertx(new VertxOptions()
                // why: one loop per shard plus one for the supervisor (and one for the admin
                // server, deployed first so it gets its own), so the manager and the admin
                // endpoints stay responsive however busy the workers are.
                .setEventLoopPoolSize(config.pool().eventLoops() + 1 + (admin ? 1 : 0))
                .setWorkerPoolSize(4)
                .setInternalBlockingPoolSize(2)
                // why: the daemon serves no files; without the classpath file cache Vert.x neither
                // creates a cache directory at start (ProtectSystem=strict friendly) nor deletes it
                // on close, which cost time between the last section and the exit.
                .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false)));
        WorkKinds kinds = new WorkKinds(vertx, plugin);
        Supervisor supervisor = new Supervisor(effective, configSource, kinds::create, signals);
        supervisor.afterCut(kinds::terminateChildren);
        // why: a resize (SIGTTIN above all) builds no new work, yet the http client must make room.
        supervisor.addListener(new PoolListener() {
            @Override
            public void resized(int from, int to) {
                kinds.poolResized(to);
            }
        });
        // Before the supervisor is deployed, so READY=1 cannot be missed; nothing without NOTIFY_SOCKET.
        var systemd = SystemdNotifier.attach(System.getenv(), vertx, supervisor);
        // What `shieldpool reload` reads to learn whether the reload it asked for was applied.
        StateFileWriter stateFile = StateFileWriter.open(System.getenv());
        supervisor.addListener(stateFile);
        ShutdownReport report;
        try {
            // The admin server answers from before `ready` to the end of the drain; it closes
            // with Vert.x below, after the pool has stopped.
            if (admin && !startAdmin(vertx, supervisor)) {
                systemd.ifPresent(SystemdNotifier::close);
                stateFile.close();
                closeQuietly(vertx);
                return ExitCode.UNAVAILABLE;
            }
            vertx.deployVerticle(supervisor).await(60, TimeUnit.SECONDS);
            report = supervisor.finished().await();
        } catch (Exception e) {
            log.atError().addKeyValue("event", "start.failed").setCause(e)
                    .log("could not start the pool: {}", e.toString());
            kinds.shutdown();
            systemd.ifPresent(SystemdNotifier::close);
            stateFile.close();
            closeQuietly(vertx);
            return ExitCode.INTERNAL;
        }
        // why: after a cut, commands of the exec kind may still run; none may outlive the daemon.
        kinds.shutdown();
        systemd.ifPresent(SystemdNotifier::close);
        stateFile.close();
        closeQuietly(vertx);
        return report.exitCode();
    }

    private boolean startAdmin(Vertx vertx, Supervisor supervisor) {
        var settings = config.admin();
        AdminServer server = new AdminServer(settings, PoolProbe.of(supervisor), version);
        supervisor.addListener(server);
        try {
            vertx.deployVerticle(server).await(30, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            log.atError().addKeyValue("event", "admin.failed").addKeyValue("host", settings.host())
                    .addKeyValue("port", settings.port()).addKeyValue("error", String.valueOf(e.getMessage()))
                    .log("cannot serve the admin endpoints on {}:{}: {}; free the port, set shieldpool.admin.port "
                                    + "(or .host), or set shieldpool.admin.enabled = false; not started (exit {})",
                            settings.host(), settings.port(), e.getMessage(), ExitCode.UNAVAILABLE.code);
            return false;
        }
    }

    private void closeQuietly(Vertx vertx) {
        log.atDebug().addKeyValue("event", "vertx.closing").log("closing Vert.x");
        try {
            vertx.close().await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            log.atDebug().addKeyValue("event", "vertx.closed").log("Vert.x closed");
        } catch (Exception e) {
            log.warn("Vert.x did not close cleanly within {} s: {}", CLOSE_TIMEOUT_SECONDS, e.toString());
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
