package io.shieldpool.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.WorkerState;

import java.util.function.ToDoubleFunction;

/**
 * The pool's metrics in Prometheus form, through Micrometer. Nothing here is on the workers' hot
 * path: every pool meter is a function of the latest {@link PoolStatus}, which the caller takes
 * (consistently, on the shards' own threads) right before each scrape and hands to
 * {@link #update}. Section durations come from the shards' fixed-bucket histograms through
 * {@link SectionDurationCollector}. JVM and process meters come from Micrometer's binders.
 * What no status carries (reloads, the final drain duration) comes from {@link PoolEvents}.
 */
public final class PoolMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final PoolEvents events;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private volatile PoolStatus latest;

    /**
     * Builds the registry and binds every meter. Takes a few hundred ms on a cold JVM (class
     * loading), so callers build it off the start-up path and off event loops.
     *
     * @param initial what to report until the first {@link #update}
     * @param version the daemon's version, for {@code shieldpool_info}
     * @param events  what the pool's listener callbacks counted (reloads, the final drain duration)
     */
    public PoolMetrics(PoolStatus initial, String version, PoolEvents events) {
        this.latest = initial;
        this.events = events;
        String work = initial.workType();
        sectionCounter("shieldpool.sections.started", "Sections admitted", work, null, s -> s.totals().started());
        sectionCounter("shieldpool.sections.ended", "Sections ended, by outcome", work, "completed",
                s -> s.totals().completed());
        sectionCounter("shieldpool.sections.ended", "Sections ended, by outcome", work, "failed",
                s -> s.totals().failed());
        sectionCounter("shieldpool.sections.ended", "Sections ended, by outcome", work, "timed_out",
                s -> s.totals().timedOut());
        sectionCounter("shieldpool.sections.ended", "Sections ended, by outcome", work, "abandoned",
                s -> s.totals().abandoned());
        gauge("shieldpool.sections.in.flight", "Sections running now (admitted, not ended)",
                s -> s.totals().inFlight()).tag("work", work).register(registry);
        registry.getPrometheusRegistry().register(new SectionDurationCollector(() -> latest, work));

        gauge("shieldpool.pool.size.desired", "Workers the configuration (or a run-time resize) asks for",
                PoolStatus::desiredSize).register(registry);
        gauge("shieldpool.pool.size.actual", "Workers alive now, whatever their state",
                s -> s.totals().workers()).register(registry);
        for (WorkerState state : WorkerState.values()) {
            gauge("shieldpool.workers", "Workers by state", s -> s.census().count(state))
                    .tag("state", state.label()).register(registry);
        }
        FunctionCounter.builder("shieldpool.worker.restarts", this, m -> m.latest.workerRestarts())
                .description("Workers replaced after their loop died").register(registry);
        FunctionCounter.builder("shieldpool.reloads", events, PoolEvents::reloadsApplied)
                .description("Configuration reloads, by result").tag("result", "applied").register(registry);
        FunctionCounter.builder("shieldpool.reloads", events, PoolEvents::reloadsFailed)
                .description("Configuration reloads, by result").tag("result", "failed").register(registry);
        Gauge.builder("shieldpool.drain.duration", this, PoolMetrics::drainSeconds).baseUnit("seconds")
                .description("How long the drain has run (0 before one begins; final once the pool stopped)")
                .register(registry);
        for (LifecycleState state : LifecycleState.values()) {
            gauge("shieldpool.state", "1 for the lifecycle state the pool is in, 0 for the others",
                    s -> s.state() == state ? 1 : 0).tag("state", state.label()).register(registry);
        }
        gauge("shieldpool.config.version", "1 for the configuration started with, plus one per applied reload",
                PoolStatus::configVersion).register(registry);
        Gauge.builder("shieldpool.info", () -> 1).description("The running shieldpool's version")
                .tag("version", version).register(registry);

        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Makes {@code status} the state every pool meter reports; call right before {@link #scrape()}. */
    public void update(PoolStatus status) {
        latest = status;
    }

    /** Every meter in the Prometheus text format (version 0.0.4). */
    /** The registry, for meters owned elsewhere (the job store's). */
    public io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    /** The Content-Type of {@link #scrape()}'s output. */
    public static String contentType() {
        return "text/plain; version=0.0.4; charset=utf-8";
    }

    /** Releases the GC listener; the registry itself holds nothing else outside the heap. */
    public void close() {
        gcMetrics.close();
        registry.close();
    }

    private double drainSeconds() {
        long finalMillis = events.finalDrainMillis();
        if (finalMillis >= 0) {
            return finalMillis / 1000.0;
        }
        return latest.drain().map(d -> d.elapsedMs() / 1000.0).orElse(0.0);
    }

    private void sectionCounter(String name, String description, String work, String outcome,
                                ToDoubleFunction<PoolStatus> value) {
        var builder = FunctionCounter.builder(name, this, m -> value.applyAsDouble(m.latest))
                .description(description).tag("work", work);
        if (outcome != null) {
            builder.tag("outcome", outcome);
        }
        builder.register(registry);
    }

    private Gauge.Builder<PoolMetrics> gauge(String name, String description, ToDoubleFunction<PoolStatus> value) {
        return Gauge.builder(name, this, m -> value.applyAsDouble(m.latest)).description(description);
    }
}
