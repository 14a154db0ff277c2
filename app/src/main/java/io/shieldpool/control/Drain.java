package io.shieldpool.control;

import io.shieldpool.time.Ticker;
import io.shieldpool.pool.Pool;
import io.shieldpool.view.ExitCode;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolListener;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.ShutdownReport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The stop: close every gate, wait for the sections in flight, report. Everything runs on the
 * control's context.
 *
 * <p>Contract: {@link #begin} closes every shard's stop gate (no section starts after that
 * instant). {@code shutdown.grace} is a hard cap: when it expires, or on {@link #cut}, each section
 * still running is reported once as abandoned and the report carries {@link ExitCode#DRAIN_CUT}.
 * The cut runs exactly once (the lifecycle's CUTTING state guards it), however many SIGINTs and
 * timers ask for it. Only after the report may Vert.x close.
 */
final class Drain implements Pool.Events {

    private static final Logger log = LoggerFactory.getLogger(Drain.class);

    /** What the drain asks of the pool: {@link Pool}'s methods of the same names, on the owner's context. */
    interface Stoppable {
        Future<Long> closeGates();

        Future<Integer> abandonInFlight();

        Future<ShardSnapshot> totals();
    }

    /** Replaces a worker whose loop died, unless a stop is under way. */
    interface Restarts {
        boolean replace(long workerId, Throwable cause);
    }

    private final Lifecycle lifecycle;
    private final Ticker clock;
    private final Vertx vertx;
    private final PoolListener listeners;
    private final Runnable afterCut;
    /** Blocking, off the event loop, once the pool has stopped and before the report (the job store's close). */
    private volatile Runnable beforeReport = () -> { };
    private final Restarts restarts;
    private final Promise<ShutdownReport> finished = Promise.promise();
    private Stoppable pool;
    private boolean poolDeployed;

    private String signal;
    private long startNanos;
    private Duration grace;
    private Runnable cancelGraceTimer = () -> { };
    /** shutdown.begin has been logged; stop signals that arrive before it wait for it (their lines follow it). */
    private boolean announced;
    private final List<Runnable> afterAnnouncement = new ArrayList<>();
    private String pendingCut;

    /**
     * @param afterCut blocking action run off the event loop once a cut has abandoned the sections
     *                 in flight: stopping what they started outside the JVM
     */
    Drain(Lifecycle lifecycle, Ticker clock, Vertx vertx, PoolListener listeners, Runnable afterCut, Restarts restarts) {
        this.lifecycle = lifecycle;
        this.clock = clock;
        this.vertx = vertx;
        this.listeners = listeners;
        this.afterCut = afterCut;
        this.restarts = restarts;
    }

    Future<ShutdownReport> finished() {
        return finished.future();
    }

    /** Whether a stop has begun (whatever state it is in now). */
    boolean begun() {
        return signal != null;
    }

    /** The pool is deployed: a drain begun during start-up closes its gates now. */
    void poolDeployed(Pool deployed) {
        poolDeployed(new Stoppable() {
            @Override
            public Future<Long> closeGates() {
                return deployed.closeGates();
            }

            @Override
            public Future<Integer> abandonInFlight() {
                return deployed.abandonInFlight();
            }

            @Override
            public Future<ShardSnapshot> totals() {
                return deployed.totals();
            }
        });
    }

    void poolDeployed(Stoppable deployed) {
        this.pool = deployed;
        this.poolDeployed = true;
        if (begun()) {
            closeGatesAndWait();
        }
    }

    /** Stops the pool: called once, for the first stop signal. */
    void begin(String signalName, Duration graceCap) {
        signal = signalName;
        grace = graceCap;
        startNanos = clock.nanoTime();
        lifecycle.goTo(LifecycleState.DRAINING);
        cancelGraceTimer = clock.schedule(grace, () -> cut("shutdown.grace of " + grace.toMillis() + " ms expired"));
        if (!poolDeployed) {
            log.atInfo().addKeyValue("event", "shutdown.during-startup").addKeyValue("signal", signal)
                    .log("{} during start-up: the pool will not start; exiting once start-up is undone", signal);
            return;
        }
        closeGatesAndWait();
    }

    /** Runs {@code action} once shutdown.begin has been logged (now, if it has). */
    void afterAnnouncement(Runnable action) {
        if (announced) {
            action.run();
        } else {
            afterAnnouncement.add(action);
        }
    }

    private void closeGatesAndWait() {
        pool.closeGates().onComplete(closed -> {
            long inFlight = closed.succeeded() ? closed.result() : -1;
            log.atInfo().addKeyValue("event", "shutdown.begin").addKeyValue("signal", signal)
                    .addKeyValue("in_flight", inFlight)
                    .log("{}: draining {} section(s) in flight; no new section starts; grace {} ms; "
                                    + "a second SIGINT forces the exit (code {}) and cuts them",
                            signal, inFlight, grace.toMillis(), ExitCode.DRAIN_CUT.code);
            listeners.drainBegan(signal, inFlight, grace);
            announced = true;
            afterAnnouncement.forEach(Runnable::run);
            afterAnnouncement.clear();
            if (closed.failed()) {
                // why: a shard that failed to close its gate (seen with a class that could not load
                // from a jar rewritten under the running JVM) left the drain waiting for this
                // announcement forever, silent, and neither the grace cap nor a second SIGINT ended
                // it. What is in flight is unknown: it is cut, as at the cap.
                cut("closing the stop gates failed: " + closed.cause());
            }
            if (pendingCut != null) {
                abandonAndFinish(pendingCut);
            }
        });
    }

    /** Progress for status output, present from the first instant of a drain. */
    PoolStatus.DrainProgress progress(long sectionsLeft) {
        long elapsedMs = (clock.nanoTime() - startNanos) / 1_000_000;
        return new PoolStatus.DrainProgress(signal, sectionsLeft, elapsedMs, Math.max(0, grace.toMillis() - elapsedMs));
    }

    @Override
    public void drained() {
        // why: during a cut the last sections may still end on their own; the cut reports then.
        if (lifecycle.is(LifecycleState.DRAINING)) {
            finish(ExitCode.OK, "drained");
        }
    }

    @Override
    public boolean workerDied(long workerId, Throwable cause) {
        return restarts.replace(workerId, cause);
    }

    /** Cuts the drain: exactly once, and only while draining; later calls are no-ops. */
    void cut(String reason) {
        if (!lifecycle.advance(LifecycleState.DRAINING, LifecycleState.CUTTING)) {
            log.atDebug().addKeyValue("event", "shutdown.cut-skipped").addKeyValue("reason", reason)
                    .log("drain cut ({}) not needed: the pool is {}", reason, lifecycle);
            return;
        }
        cancelGraceTimer.run();
        if (!announced) {
            pendingCut = reason; // the gates are still closing; the cut follows their closing
            return;
        }
        abandonAndFinish(reason);
    }

    private void abandonAndFinish(String reason) {
        pool.abandonInFlight().onComplete(ar -> {
            int cut = ar.succeeded() ? ar.result() : -1;
            log.atError().addKeyValue("event", "shutdown.cut").addKeyValue("reason", reason).addKeyValue("abandoned", cut)
                    .log("drain cut ({}): {} section(s) abandoned", reason, cut);
            // why: what the cut sections started outside the JVM (exec children) is stopped before
            // the final report, so the report is the last word and nothing outlives the exit.
            vertx.executeBlocking(() -> {
                afterCut.run();
                return null;
            }, false).onComplete(done -> finish(ExitCode.DRAIN_CUT, reason));
        });
    }

    private void finish(ExitCode exitCode, String reason) {
        if (!lifecycle.goTo(LifecycleState.STOPPED)) {
            return;
        }
        cancelGraceTimer.run();
        long drainMillis = (clock.nanoTime() - startNanos) / 1_000_000;
        vertx.executeBlocking(() -> {
            beforeReport.run();
            return null;
        }, false).onComplete(closed -> report(exitCode, reason, drainMillis));
    }

    /**
     * Sets what to do once the pool has stopped, before the final report: a blocking action, such
     * as committing the last acks and closing the job store, so the report stays the last word.
     */
    void beforeReport(Runnable blockingAction) {
        this.beforeReport = blockingAction;
    }

    private void report(ExitCode exitCode, String reason, long drainMillis) {
        pool.totals().onComplete(ar -> {
            ShardSnapshot totals = ar.succeeded() ? ar.result() : ShardSnapshot.EMPTY;
            ShutdownReport report = new ShutdownReport(totals, drainMillis, exitCode, reason);
            // why: exit 75 means sections were abandoned: an operator filtering at WARN must see it.
            log.atLevel(exitCode == ExitCode.OK ? Level.INFO : Level.WARN).addKeyValue("event", "shutdown.complete")
                    .addKeyValue("started", totals.started()).addKeyValue("completed", totals.completed())
                    .addKeyValue("failed", totals.failed()).addKeyValue("timed_out", totals.timedOut())
                    .addKeyValue("abandoned", totals.abandoned())
                    .addKeyValue("drain_ms", drainMillis).addKeyValue("exit_code", exitCode.code)
                    .log("stopped ({}): {} completed, {} failed, {} timed out, {} abandoned; drain took {} ms; exit code {}",
                            reason, totals.completed(), totals.failed(), totals.timedOut(), totals.abandoned(),
                            drainMillis, exitCode.code);
            listeners.stopped(report);
            finished.tryComplete(report);
        });
    }
}
