package io.shieldpool.work.plugin;

import com.typesafe.config.Config;
import io.shieldpool.plugin.SectionContext;
import io.shieldpool.work.ActiveSection;
import io.shieldpool.work.SectionRun;
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
    private volatile boolean timedOut;
    private volatile Logger logger;
    /** The virtual thread running a blocking section, to interrupt at its timeout; guarded by this. */
    private Thread runner;

    PluginSection(ActiveSection section, Context home, Vertx vertx, Duration timeout, Config settings,
                  Logger pluginLog) {
        super(section, home, vertx, timeout);
        this.workerId = section.workerId();
        this.sectionId = section.sectionId();
        this.settings = settings;
        this.pluginLog = pluginLog;
    }

    void start() {
        armTimeout();
    }

    @Override
    protected void onTimeout(String reason) {
        timedOut = true;
        synchronized (this) {
            if (runner != null) {
                runner.interrupt();
            }
        }
        timedOut(reason);
    }

    synchronized void enter(Thread thread) {
        runner = thread;
        if (timedOut) {
            thread.interrupt(); // timed out while waiting for a lane: run, but interrupted at once
        }
    }

    synchronized void leave() {
        runner = null;
    }

    /** Ends the section from any thread: null for completed, else the failure. */
    void finish(Throwable failure) {
        onHome(() -> {
            if (failure == null) {
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
