package io.shieldpool.jobs.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jobs.claim-batch = auto}: the sizer driven as a shard's feed drives it (claim when the
 * buffer is down to a quarter of the last target; one claim at a time, answered a round trip
 * later) by a shard of simulated workers, with time moved by hand. Short sections must grow the
 * claims to the cap; long ones must keep the buffer small while the workers stay busy.
 */
class ClaimSizerTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long STEP = MS / 10;
    private static final int WORKERS = 32;
    private static final int CAP = 8 * WORKERS;
    private static final long CLAIM = 4 * MS;

    /** What a simulated run saw after its first second (the warm-up). */
    record Run(List<Integer> targets, List<Integer> beyondIdle, double meanBuffered, int mostBuffered, double busy, long jobs) {
    }

    /** {@code WORKERS} workers whose sections take {@code section}, fed from one buffer by claims of {@code claim} round trip. */
    private static Run run(long section, long claim, long duration) {
        ClaimSizer sizer = new ClaimSizer();
        long[] busyUntil = new long[WORKERS];
        boolean[] running = new boolean[WORKERS];
        int buffered = 0;
        long answerAt = -1;
        int coming = 0;
        List<Integer> targets = new ArrayList<>();
        List<Integer> beyondIdle = new ArrayList<>();
        long bufferSum = 0;
        long samples = 0;
        int most = 0;
        long busySteps = 0;
        long jobs = 0;
        for (long now = 0; now < duration; now += STEP) {
            boolean warm = now >= 1_000 * MS;
            if (answerAt >= 0 && now >= answerAt) {
                buffered += coming;
                sizer.claimAnswered(claim);
                answerAt = -1;
            }
            int idle = 0;
            for (int w = 0; w < WORKERS; w++) {
                if (running[w] && busyUntil[w] <= now) {
                    running[w] = false;
                    sizer.sectionEnded();
                }
                if (!running[w]) {
                    if (buffered > 0) {
                        buffered--;
                        running[w] = true;
                        busyUntil[w] = now + Math.max(STEP, section);
                        jobs += warm ? 1 : 0;
                    } else {
                        idle++;
                    }
                }
                if (warm && busyUntil[w] > now) {
                    busySteps++;
                }
            }
            if (answerAt < 0 && buffered <= sizer.lastTarget() / 4) {
                int target = sizer.target(now, idle, CAP);
                if (warm) {
                    targets.add(target);
                    beyondIdle.add(target - idle);
                }
                if (target > buffered) {
                    coming = target - buffered;
                    answerAt = now + claim;
                }
            }
            if (warm) {
                bufferSum += buffered;
                samples++;
                most = Math.max(most, buffered);
            }
        }
        return new Run(targets, beyondIdle, (double) bufferSum / samples, most, (double) busySteps / (samples * WORKERS), jobs);
    }

    @Test
    void theFirstClaimIsForTheIdleWorkersAndNeverEmptyOrAboveTheCap() {
        ClaimSizer sizer = new ClaimSizer();
        assertThat(sizer.lastTarget()).isZero();
        assertThat(sizer.target(0, WORKERS, CAP)).isEqualTo(WORKERS);
        assertThat(new ClaimSizer().target(0, 0, CAP)).isEqualTo(1);
        assertThat(new ClaimSizer().target(0, 1_000, CAP)).isEqualTo(CAP);
    }

    @Test
    void withShortSectionsTheClaimsGrowToTheCapWithinATenthOfASecond() {
        // 0.1 ms sections: the workers could take 320,000 jobs/s, far more than one claim per 4 ms brings
        Run run = run(STEP, CLAIM, 2_000 * MS);
        assertThat(run.targets()).isNotEmpty().allSatisfy(target -> assertThat(target).isEqualTo(CAP));
        // a fixed 32 would bring at most 32 jobs per 4 ms round trip: 8,000 jobs/s
        assertThat(run.jobs()).isGreaterThan(3 * 8_000);

        ClaimSizer growing = new ClaimSizer();
        List<Integer> first = new ArrayList<>();
        long now = 0;
        for (int claim = 0; claim < 25; claim++) { // 100 ms of 4 ms round trips
            int target = growing.target(now, WORKERS, CAP);
            first.add(target);
            now += CLAIM;
            growing.claimAnswered(CLAIM);
            for (int i = 0; i < target; i++) {
                growing.sectionEnded(); // all run within the round trip: the buffer ran dry
            }
        }
        assertThat(first).as("targets of the first claims").isSorted().contains(CAP).first().isEqualTo(WORKERS);
        assertThat(first.get(1)).as("the second target").isGreaterThan(2 * WORKERS);
    }

    @Test
    void withTwentyMillisecondSectionsTheBufferStaysSmallAndTheWorkersBusy() {
        // 32 workers x 20 ms = 1,600 jobs/s; two 4 ms round trips' worth is ~13 jobs
        Run run = run(20 * MS, CLAIM, 3_000 * MS);
        assertThat(run.targets()).isNotEmpty().allSatisfy(target -> assertThat(target).isBetween(1, 2 * 13));
        assertThat(run.mostBuffered()).isLessThanOrEqualTo(2 * 13);
        assertThat(run.meanBuffered()).isLessThan(13);
        assertThat(run.busy()).as("share of worker time in sections").isGreaterThan(0.95);
    }

    @Test
    void withOneSecondSectionsAClaimIsForTheWorkersThatAreFreeAndLittleMore() {
        // 32 jobs/s: a round trip's worth is a fraction of a job (the simulated workers end their sections together)
        Run run = run(1_000 * MS, CLAIM, 5_000 * MS);
        assertThat(run.beyondIdle()).isNotEmpty().allSatisfy(extra -> assertThat(extra).isBetween(0, 2));
        assertThat(run.mostBuffered()).isLessThanOrEqualTo(2);
        assertThat(run.busy()).isGreaterThan(0.98);
    }

    @Test
    void whenSectionsGetLongTheTargetFallsToWhatTheyTakeWithinHalfASecond() {
        ClaimSizer sizer = new ClaimSizer();
        long now = 0;
        for (int claim = 0; claim < 50; claim++) {
            int target = sizer.target(now, 0, CAP);
            now += CLAIM;
            sizer.claimAnswered(CLAIM);
            for (int i = 0; i < Math.max(target, WORKERS); i++) {
                sizer.sectionEnded();
            }
        }
        assertThat(sizer.lastTarget()).isEqualTo(CAP);
        int[] after = new int[50];
        for (int claim = 0; claim < after.length; claim++) {
            now += 10 * MS; // then 1 section ends per 10 ms: 100 jobs/s, under one job per round trip
            sizer.sectionEnded();
            after[claim] = sizer.target(now, 0, CAP);
        }
        assertThat(after).as("targets every 10 ms").isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(after[19]).as("after 200 ms").isLessThan(CAP / 8);
        assertThat(after[49]).as("after 500 ms").isLessThanOrEqualTo(2);
    }
}
