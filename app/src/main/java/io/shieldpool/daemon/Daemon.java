package io.shieldpool.daemon;

import io.shieldpool.config.Durations;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.lifecycle.ExitCode;
import io.shieldpool.logging.LogSetup;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.supervisor.ShutdownReport;
import io.shieldpool.supervisor.Supervisor;
import io.shieldpool.work.Work;
import io.shieldpool.work.demo.DemoWork;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private final ShieldpoolConfig config;
    private final SignalSource signals;
    private final String version;

    public Daemon(ShieldpoolConfig config, SignalSource signals, String version) {
        this.config = config;
        this.signals = signals;
        this.version = version;
    }

    /** Runs until the pool has stopped; returns the exit code. */
    public ExitCode run() {
        LogSetup.apply(config.log());
        logEffectiveConfig();
        Work work = new DemoWork(config.work().demo());
        Vertx vertx = Vertx.vertx(new VertxOptions()
                // why: one loop per shard plus one for the supervisor, so the manager stays
                // responsive however busy the workers are.
                .setEventLoopPoolSize(config.pool().eventLoops() + 1)
                .setWorkerPoolSize(4)
                .setInternalBlockingPoolSize(2));
        Supervisor supervisor = new Supervisor(config, work, signals);
        ShutdownReport report;
        try {
            vertx.deployVerticle(supervisor).await(60, TimeUnit.SECONDS);
            report = supervisor.finished().await();
        } catch (Exception e) {
            log.atError().addKeyValue("event", "start.failed").setCause(e)
                    .log("could not start the pool: {}", e.toString());
            closeQuietly(vertx);
            return ExitCode.INTERNAL;
        }
        closeQuietly(vertx);
        return report.exitCode();
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
        var demo = config.work().demo();
        log.atInfo().addKeyValue("event", "config")
                .addKeyValue("file", config.source().map(Object::toString).orElse("(none: embedded defaults)"))
                .addKeyValue("pool.size", config.pool().size())
                .addKeyValue("pool.event-loops", config.pool().eventLoops())
                .addKeyValue("work.type", config.work().type())
                .addKeyValue("work.demo.steps", demo.steps())
                .addKeyValue("work.demo.step-duration", Durations.format(demo.stepDuration()))
                .addKeyValue("work.demo.failure-probability", demo.failureProbability())
                .addKeyValue("worker.backoff.initial", Durations.format(config.backoff().initial()))
                .addKeyValue("worker.backoff.max", Durations.format(config.backoff().max()))
                .addKeyValue("shutdown.grace", Durations.format(config.shutdown().grace()))
                .addKeyValue("log.level", config.log().level().name().toLowerCase())
                .addKeyValue("log.format", config.log().format().name().toLowerCase())
                .log("shieldpool {} starting (pid {})", version, ProcessHandle.current().pid());
    }
}
