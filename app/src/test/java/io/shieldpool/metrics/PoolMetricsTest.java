package io.shieldpool.metrics;

import io.shieldpool.view.ExitCode;
import io.shieldpool.view.LifecycleState;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShutdownReport;
import io.shieldpool.view.SectionDurationSnapshot;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerCensus;
import io.shieldpool.view.WorkerState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What /metrics says for a given pool status: names, labels, the histogram's shape. */
class PoolMetricsTest {

    private final PoolEvents events = new PoolEvents();
    private final PoolMetrics metrics = new PoolMetrics(status(LifecycleState.STARTING, ShardSnapshot.EMPTY,
            SectionDurationSnapshot.EMPTY, Optional.empty()), "9.9.9", events);

    @AfterEach
    void close() {
        metrics.close();
    }

    private static PoolStatus status(LifecycleState state, ShardSnapshot totals, SectionDurationSnapshot durations,
                                     Optional<PoolStatus.DrainProgress> drain) {
        var census = new WorkerCensus(Map.of(WorkerState.BUSY, totals.busy(), WorkerState.IDLE,
                totals.workers() - totals.busy()), new long[]{totals.busy()});
        return new PoolStatus(state, 5, totals, drain, List.of(), 3, "demo", 2, census, durations);
    }

    /** Durations as the shards would record them: {@code nanos} each, one section per entry. */
    private static SectionDurationSnapshot durations(long... nanos) {
        long[] bounds = SectionDurationSnapshot.EMPTY.upperBoundsNanos();
        long[] counts = new long[bounds.length + 1];
        long sum = 0;
        for (long n : nanos) {
            int bucket = 0;
            while (bucket < bounds.length && n > bounds[bucket]) {
                bucket++;
            }
            counts[bucket]++;
            sum += n;
        }
        return new SectionDurationSnapshot(bounds, counts, sum);
    }

    @Test
    void poolMetersReportTheStatusTheyWereGiven() {
        ShardSnapshot totals = new ShardSnapshot(111, 100, 6, 1, 1, 3, 4, 3);
        metrics.update(status(LifecycleState.DRAINING, totals,
                durations(500_000, 3_000_000_000L, 3_000_000_000L, 700_000_000_000L),
                Optional.of(new PoolStatus.DrainProgress("SIGTERM", 3, 1500, 28500))));
        events.reloadEnded(true, "pool.size");
        events.reloadEnded(false, "bad");
        events.reloadEnded(false, "bad");
        PrometheusText text = PrometheusText.parse(metrics.scrape());

        assertThat(text.value("shieldpool_sections_started_total", "work", "demo")).isEqualTo(111);
        assertThat(text.value("shieldpool_sections_ended_total", "work", "demo", "outcome", "completed")).isEqualTo(100);
        assertThat(text.value("shieldpool_sections_ended_total", "outcome", "failed")).isEqualTo(6);
        assertThat(text.value("shieldpool_sections_ended_total", "outcome", "abandoned")).isEqualTo(1);
        assertThat(text.value("shieldpool_sections_ended_total", "outcome", "timed_out")).isEqualTo(1);
        assertThat(text.value("shieldpool_sections_in_flight")).isEqualTo(3);
        assertThat(text.value("shieldpool_pool_size_desired")).isEqualTo(5);
        assertThat(text.value("shieldpool_pool_size_actual")).isEqualTo(4);
        assertThat(text.value("shieldpool_workers", "state", "busy")).isEqualTo(3);
        assertThat(text.value("shieldpool_workers", "state", "idle")).isEqualTo(1);
        assertThat(text.value("shieldpool_worker_restarts_total")).isEqualTo(2);
        assertThat(text.value("shieldpool_reloads_total", "result", "applied")).isEqualTo(1);
        assertThat(text.value("shieldpool_reloads_total", "result", "failed")).isEqualTo(2);
        assertThat(text.value("shieldpool_drain_duration_seconds")).isEqualTo(1.5);
        assertThat(text.value("shieldpool_state", "state", "draining")).isEqualTo(1);
        assertThat(text.value("shieldpool_state", "state", "running")).isZero();
        assertThat(text.value("shieldpool_config_version")).isEqualTo(3);
        assertThat(text.value("shieldpool_info", "version", "9.9.9")).isEqualTo(1);
        assertThat(text.type("shieldpool_sections_started_total")).isEqualTo("counter");
        assertThat(text.find("jvm_memory_used_bytes")).isNotEmpty();
        assertThat(text.find("jvm_gc_pause_seconds_count").size() + text.find("jvm_gc_memory_allocated_bytes_total").size())
                .isPositive();
        assertThat(text.find("process_uptime_seconds")).isNotEmpty();
        assertThat(text.find("jvm_threads_live_threads")).isNotEmpty();

        // The histogram: cumulative buckets in seconds, +Inf = count, sum in seconds.
        assertThat(text.type("shieldpool_section_duration_seconds")).isEqualTo("histogram");
        assertThat(text.value("shieldpool_section_duration_seconds_bucket", "le", "0.001")).isEqualTo(1);
        assertThat(text.value("shieldpool_section_duration_seconds_bucket", "le", "2.5")).isEqualTo(1);
        assertThat(text.value("shieldpool_section_duration_seconds_bucket", "le", "5.0")).isEqualTo(3);
        assertThat(text.value("shieldpool_section_duration_seconds_bucket", "le", "600.0")).isEqualTo(3);
        assertThat(text.value("shieldpool_section_duration_seconds_bucket", "le", "+Inf")).isEqualTo(4);
        assertThat(text.value("shieldpool_section_duration_seconds_count")).isEqualTo(4);
        assertThat(text.value("shieldpool_section_duration_seconds_sum")).isCloseTo(706.0005, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void theFinalDrainDurationWinsOnceThePoolHasStopped() {
        metrics.update(status(LifecycleState.STOPPED, ShardSnapshot.EMPTY, SectionDurationSnapshot.EMPTY,
                Optional.of(new PoolStatus.DrainProgress("SIGINT", 0, 99_000, 0))));
        events.stopped(new ShutdownReport(ShardSnapshot.EMPTY, 1234, ExitCode.OK, "drained"));
        assertThat(PrometheusText.parse(metrics.scrape()).value("shieldpool_drain_duration_seconds")).isEqualTo(1.234);
    }
}
