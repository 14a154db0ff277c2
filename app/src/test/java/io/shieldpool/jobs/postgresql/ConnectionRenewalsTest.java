package io.shieldpool.jobs.postgresql;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionRenewalsTest {

    private static final long MS = 1_000_000L;

    /** The seconds (of a refusal every 100 ms from {@code from} for {@code seconds}) at which the connections are opened again. */
    private static List<Double> renewedAt(ConnectionRenewals renewals, long fromNanos, int seconds) {
        List<Double> at = new ArrayList<>();
        for (long t = 0; t <= seconds * 1_000L; t += 100) {
            if (renewals.due(fromNanos + t * MS)) {
                at.add(t / 1_000.0);
            }
        }
        return at;
    }

    @Test
    void aLongSpellRenewsAtOnceThenAfterPausesThatDoubleUpToTheLongest() {
        ConnectionRenewals renewals = new ConnectionRenewals(Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(renewedAt(renewals, 42 * MS, 30)).containsExactly(0.0, 1.0, 3.0, 7.0, 12.0, 17.0, 22.0, 27.0);
    }

    @Test
    void aWriteThatLandsEndsTheSpellTheNextRefusalRenewsAtOnceAndTheFirstPauseIsShortAgain() {
        ConnectionRenewals renewals = new ConnectionRenewals(Duration.ofSeconds(1), Duration.ofSeconds(5));
        renewedAt(renewals, 0, 20);
        renewals.writeLanded();
        assertThat(renewedAt(renewals, 20_050 * MS, 4)).containsExactly(0.0, 1.0, 3.0);
    }

    @Test
    void aRefusalRightAfterARenewalWaitsForThePause() {
        ConnectionRenewals renewals = new ConnectionRenewals(Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(renewals.due(Long.MIN_VALUE + 5)).as("the first refusal, whatever the clock reads").isTrue();
        assertThat(renewals.due(Long.MIN_VALUE + 5 + 999 * MS)).isFalse();
        assertThat(renewals.due(Long.MIN_VALUE + 5 + 1_000 * MS)).isTrue();
    }
}
