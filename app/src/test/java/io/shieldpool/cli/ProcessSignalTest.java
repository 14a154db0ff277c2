package io.shieldpool.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** kill(2) and the pidfd-held signal, on a real child process (sleep, which SIGHUP ends). */
@Timeout(30)
class ProcessSignalTest {

    @Test
    void theSignalGoesOnlyWhenTheJudgementSaysItIsTheProcessMeant() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            assertThat(ProcessSignal.sendIf(sleeper.pid(), ProcessSignal.SIGHUP, () -> false, "not the daemon"))
                    .contains("not the daemon");
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(sleeper::isAlive);
            assertThat(ProcessSignal.sendIf(sleeper.pid(), ProcessSignal.SIGHUP, () -> true, "not the daemon")).isEmpty();
            assertThat(sleeper.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(sleeper.exitValue()).as("ended by SIGHUP").isEqualTo(128 + ProcessSignal.SIGHUP);
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    @Test
    void aProcessThatExitsWhileItIsJudgedIsNotSignalledAndNothingElseIs() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        // why: the pid is free once reaped, and may be another process's by the time the judgement ends
        assertThat(ProcessSignal.sendIf(sleeper.pid(), ProcessSignal.SIGHUP, () -> {
            try {
                return sleeper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "not the daemon")).contains(ProcessSignal.NO_SUCH_PROCESS);
        assertThat(ProcessSignal.sendIf(999_999_999L, ProcessSignal.SIGHUP, () -> true, "not the daemon"))
                .contains(ProcessSignal.NO_SUCH_PROCESS);
    }
}
