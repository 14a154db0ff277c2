package io.shieldpool.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs every benchmark scenario at a tiny size so the suite cannot rot. It asserts that each
 * scenario ran and produced a figure, never the figure's value: timing belongs to the benchmark.
 */
// why 480: the P1/P2 scenarios (issue 17) start a PostgreSQL server and several daemons
@Timeout(480)
class BenchSmokeIT {

    @TempDir
    Path dir;

    @Test
    void everyScenarioRunsAndReportsAFigure() throws Exception {
        BenchMain bench = new BenchMain(false,
                Path.of(System.getProperty("shieldpool.launcher", "bin/shieldpool")), dir);
        bench.runAll();
        bench.print();
        assertThat(bench.rows()).extracting(BenchMain.Row::scenario)
                .anySatisfy(s -> assertThat(s).startsWith("B1"))
                .anySatisfy(s -> assertThat(s).startsWith("B2"))
                .anySatisfy(s -> assertThat(s).startsWith("B3"))
                .anySatisfy(s -> assertThat(s).startsWith("B4"))
                .anySatisfy(s -> assertThat(s).startsWith("B5"))
                .anySatisfy(s -> assertThat(s).startsWith("B6"))
                .anySatisfy(s -> assertThat(s).startsWith("B7"))
                .anySatisfy(s -> assertThat(s).startsWith("B8"))
                .anySatisfy(s -> assertThat(s).startsWith("B10"));
        if (java.nio.file.Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/postgres"))) {
            assertThat(bench.rows()).extracting(BenchMain.Row::scenario)
                    .anySatisfy(s -> assertThat(s).startsWith("P1 daemon, 1 node"))
                    .anySatisfy(s -> assertThat(s).startsWith("P1 daemon, 4 nodes"))
                    .anySatisfy(s -> assertThat(s).startsWith("P2 kill test shieldpool, restarted"))
                    .anySatisfy(s -> assertThat(s).startsWith("P2 kill test shieldpool, rescued"));
        }
        assertThat(bench.rows()).allSatisfy(row -> assertThat(row.shieldpool()).isFinite().isNotNegative());
    }
}
