package io.shieldpool.kinds.plugin;

import com.typesafe.config.Config;
import io.shieldpool.plugin.AsyncSectionPlugin;
import io.shieldpool.plugin.BlockingSectionPlugin;
import io.shieldpool.plugin.SectionPlugin;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Work;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import io.shieldpool.logging.LogSetup;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Runs a plug-in's sections: an {@link AsyncSectionPlugin} on the worker's event loop, a
 * {@link BlockingSectionPlugin} on a virtual-thread lane. Built again on a reload that changes
 * the plug-in's settings or {@code work.timeout}; the plug-in instance itself is kept.
 */
final class PluginWork implements Work {

    private final SectionPlugin plugin;
    private final Config settings;
    private final Duration timeout;
    private final Vertx vertx;
    private final VirtualThreadLanes lanes;
    private final Logger pluginLog;

    /**
     * @param plugin   the plug-in (one instance for the daemon's life)
     * @param settings its subtree shieldpool.work.TYPE
     * @param timeout  work.timeout (zero: none)
     * @param vertx    the daemon's Vert.x
     * @param lanes    shared virtual-thread lanes (blocking plug-ins only)
     */
    PluginWork(SectionPlugin plugin, Config settings, Duration timeout, Vertx vertx, VirtualThreadLanes lanes) {
        this.plugin = plugin;
        this.settings = settings;
        this.timeout = timeout;
        this.vertx = vertx;
        this.lanes = lanes;
        // A plug-in's package is its own (com.acme...): without this its section lines below WARN
        // were dropped, the root logger being at WARN for libraries.
        LogSetup.followOwnLevel(plugin.getClass().getName());
        this.pluginLog = LoggerFactory.getLogger(plugin.getClass());
    }

    /** Builds the works of one plug-in, sharing its virtual-thread lanes across reloads. */
    static final class Factory {
        private final SectionPlugin plugin;
        private final Vertx vertx;
        private final VirtualThreadLanes lanes;

        Factory(SectionPlugin plugin, Vertx vertx) {
            this.plugin = plugin;
            this.vertx = vertx;
            this.lanes = new VirtualThreadLanes(vertx);
        }

        Work create(Config settings, Duration timeout) {
            return new PluginWork(plugin, settings, timeout, vertx, lanes);
        }
    }

    @Override
    public String type() {
        return plugin.type();
    }

    @Override
    public int stepsPerSection() {
        return plugin.stepsPerSection();
    }

    @Override
    public void begin(ActiveSection section) {
        Context home = vertx.getOrCreateContext();
        PluginSection run = new PluginSection(section, home, vertx, timeout, settings, pluginLog,
                !(plugin instanceof AsyncSectionPlugin));
        run.start();
        if (plugin instanceof AsyncSectionPlugin async) {
            runAsync(async, run);
        } else {
            runBlocking((BlockingSectionPlugin) plugin, run);
        }
    }

    private void runAsync(AsyncSectionPlugin async, PluginSection run) {
        Future<?> result;
        try {
            result = async.runSection(run);
        } catch (Throwable e) {
            run.finish(e);
            return;
        }
        if (result == null) {
            run.finish(new IllegalStateException(plugin.getClass().getName() + ".runSection returned null"));
            return;
        }
        result.onComplete(ar -> run.finish(ar.failed() ? ar.cause() : null));
    }

    private void runBlocking(BlockingSectionPlugin blocking, PluginSection run) {
        lanes.take().onComplete(taken -> {
            if (taken.failed()) {
                run.finish(taken.cause());
                return;
            }
            Context lane = taken.result();
            lane.runOnContext(v -> {
                Throwable failure = null;
                if (!run.enter(Thread.currentThread())) {
                    lanes.giveBack(lane);
                    run.finish(null); // timed out while waiting for the lane; ends as timed_out
                    return;
                }
                try {
                    blocking.runSection(run);
                } catch (Throwable e) {
                    failure = e;
                } finally {
                    run.leave();
                    // why: an interrupt aimed at this section (its timeout) must not hit the next one.
                    Thread.interrupted();
                    lanes.giveBack(lane);
                }
                run.finish(failure);
            });
        });
    }
}
