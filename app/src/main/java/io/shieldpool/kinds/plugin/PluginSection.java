package io.shieldpool.kinds.plugin;

import com.typesafe.config.Config;
import io.shieldpool.plugin.SectionContext;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.SectionRun;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.Logger;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** One plug-in section: the {@link SectionContext} the plug-in sees, and how the section ends. */
final class PluginSection extends SectionRun implements SectionContext {

    private final long workerId;
    private final long sectionId;
    private final Config settings;
    private final Logger pluginLog;
    private final AtomicInteger steps = new AtomicInteger();
    private final boolean blocking;
    private volatile boolean timedOut;
    /** Set when a blocking section reached work.timeout: how it ends once its method returns. */
    private volatile String timeoutReason;
    private volatile Logger logger;
    private final java.util.Optional<io.shieldpool.plugin.SectionJob> job;
    /** The virtual thread running a blocking section, to interrupt at its timeout; guarded by this. */
    private Thread runner;

    PluginSection(ActiveSection section, Context home, Vertx vertx, Duration timeout, Config settings,
                  Logger pluginLog, boolean blocking) {
        super(section, home, vertx, timeout);
        this.blocking = blocking;
        this.workerId = section.workerId();
        this.sectionId = section.sectionId();
        io.shieldpool.jobs.Job claimed = section.job();
        this.job = claimed == null ? java.util.Optional.empty() : java.util.Optional.of(new io.shieldpool.plugin.SectionJob(
                claimed.id(), claimed.attempt(), claimed.maxAttempts(), claimed.queue(), claimed.payload()));
        this.settings = settings;
        this.pluginLog = pluginLog;
    }

    void start() {
        armTimeout();
    }

    /**
     * why the blocking style ends only once its method has returned: an interrupt is a request
     * the code may ignore. Ending at once would let it run on outside the shield: the worker would
     * start its next section beside it (on another lane, past pool.size), and a drain would count
     * it as finished while it still ran, then exit under it. So, as an exec child is waited for
     * after its SIGTERM, the section is timed out here but ended by {@link #finish}; if it is
     * still running at the grace cap, the drain reports it as abandoned.
     */
    @Override
    protected void onTimeout(String reason) {
        if (!blocking) {
            timedOut = true;
            timedOut(reason); // the plug-in's future is forsaken: its late result is ignored
            return;
        }
        boolean running;
        synchronized (this) {
            timeoutReason = reason;
            timedOut = true;
            running = runner != null;
            if (running) {
                runner.interrupt();
            }
        }
        if (running) {
            pluginLog.atWarn().addKeyValue("event", "plugin.interrupt").addKeyValue("worker", workerId)
                    .addKeyValue("section", sectionId)
                    .log("worker {} section {}: {}: thread interrupted; the section ends when runSection returns",
                            workerId, sectionId, reason);
        } else {
            // why: not entered yet (waiting for its lane): enter() refuses it, nothing of the plug-in
            // runs. (Or it has just returned: finish, queued behind this, finds the section ended.)
            timedOut(reason);
        }
    }

    /**
     * The blocking method is about to run on {@code thread}.
     *
     * @return false when the section timed out before it could run: skip the plug-in
     */
    synchronized boolean enter(Thread thread) {
        if (timedOut) {
            return false;
        }
        runner = thread;
        return true;
    }

    synchronized void leave() {
        runner = null;
    }

    /** Ends the section from any thread: null for completed, else the failure; timed out wins. */
    void finish(Throwable failure) {
        onHome(() -> {
            String reason = timeoutReason;
            if (reason != null) {
                timedOut(reason);
            } else if (failure == null) {
                completed();
            } else {
                failed(failure);
            }
        });
    }

    @Override
    public long workerId() {
        return workerId;
    }

    @Override
    public java.util.Optional<io.shieldpool.plugin.SectionJob> job() {
        return job;
    }

    @Override
    public long sectionId() {
        return sectionId;
    }

    @Override
    public Config config() {
        return settings;
    }

    @Override
    public void stepDone() {
        steps.incrementAndGet();
        onHome(() -> {
            if (!ended()) {
                section.stepDone();
            }
        });
    }

    @Override
    public int stepsDone() {
        return steps.get();
    }

    @Override
    public void stepsTotal(int total) {
        onHome(() -> {
            if (!ended()) {
                section.stepsTotal(total);
            }
        });
    }

    @Override
    public boolean stopRequested() {
        return section.stopRequested();
    }

    @Override
    public boolean timedOut() {
        return timedOut;
    }

    @Override
    public Logger logger() {
        Logger made = logger;
        if (made == null) {
            made = new SectionLogger(pluginLog, workerId, sectionId);
            logger = made;
        }
        return made;
    }

    @Override
    public Vertx vertx() {
        return vertx;
    }
}
