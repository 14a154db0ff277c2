package io.shieldpool.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.SectionDurationSnapshot;

import java.util.function.Supplier;

/**
 * {@code shieldpool_section_duration_seconds}: the shards' own fixed-bucket histograms, summed, as
 * a Prometheus classic histogram. Why not a Micrometer Timer: recording into one would cost every
 * section an atomic update on a shared meter; the shards already count into plain arrays on their
 * own threads, read here only when scraped.
 */
final class SectionDurationCollector implements Collector {

    static final String NAME = "shieldpool_section_duration_seconds";

    private final Supplier<PoolStatus> status;
    private final Labels labels;

    SectionDurationCollector(Supplier<PoolStatus> status, String work) {
        this.status = status;
        this.labels = Labels.of("work", work);
    }

    @Override
    public MetricSnapshot collect() {
        SectionDurationSnapshot durations = status.get().durations();
        long[] bounds = durations.upperBoundsNanos();
        double[] upperBounds = new double[bounds.length + 1];
        for (int i = 0; i < bounds.length; i++) {
            upperBounds[i] = Unit.nanosToSeconds(bounds[i]);
        }
        upperBounds[bounds.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.builder()
                .name(NAME)
                .help("How long sections took from admission to their end (completed or failed)")
                .unit(Unit.SECONDS)
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .labels(labels)
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBounds, durations.counts()))
                        .sum(Unit.nanosToSeconds(durations.sumNanos()))
                        .build())
                .build();
    }
}
