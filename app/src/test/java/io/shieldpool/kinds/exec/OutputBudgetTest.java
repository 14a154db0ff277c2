package io.shieldpool.kinds.exec;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-command output budget on an injected clock: a burst of one second's worth, then the rate. */
class OutputBudgetTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void aBurstOfOneSecondsWorthThenTheRateAndEveryDropIsCounted() {
        OutputBudget budget = new OutputBudget(100, 10, 0);
        int admitted = 0;
        for (int i = 0; i < 25; i++) {
            admitted += budget.admit(0) ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(10);
        assertThat(budget.droppedTotal()).isEqualTo(15);
        // Half a second later: five more tokens, no more.
        admitted = 0;
        for (int i = 0; i < 10; i++) {
            admitted += budget.admit(SECOND / 2) ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(5);
        assertThat(budget.droppedTotal()).isEqualTo(20);
    }

    @Test
    void dropsAreReportedAtMostOnceASecondAndAllAtTheEnd() {
        OutputBudget budget = new OutputBudget(100, 1, 0);
        budget.admit(0);
        budget.admit(0); // dropped
        assertThat(budget.takeDroppedReport(SECOND / 2, false)).as("not yet a second since the start").isZero();
        assertThat(budget.takeDroppedReport(SECOND, false)).isEqualTo(1);
        budget.admit(SECOND);
        budget.admit(SECOND); // dropped
        assertThat(budget.takeDroppedReport(SECOND + 1, false)).isZero();
        assertThat(budget.takeDroppedReport(SECOND + 1, true)).as("the command ended: report what is left").isEqualTo(1);
        assertThat(budget.takeDroppedReport(SECOND + 2, true)).isZero();
    }

    @Test
    void zeroMeansNoLimit() {
        OutputBudget budget = new OutputBudget(100, 0, 0);
        for (int i = 0; i < 100_000; i++) {
            assertThat(budget.admit(0)).isTrue();
        }
        assertThat(budget.droppedTotal()).isZero();
    }

    @Test
    void theTruncationWarningIsSaidOncePerCommand() {
        OutputBudget budget = new OutputBudget(100, 0, 0);
        assertThat(budget.firstTruncation()).isTrue();
        assertThat(budget.firstTruncation()).isFalse();
    }
}
