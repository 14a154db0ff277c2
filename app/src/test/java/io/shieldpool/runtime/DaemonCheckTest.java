package io.shieldpool.runtime;

import io.shieldpool.runtime.DaemonCheck.Verdict;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule that tells a state file of a running daemon from one left behind whose pid is now another's. */
class DaemonCheckTest {

    private static StateFile file(long pid, OptionalLong startTime) {
        return new StateFile(pid, startTime, "running", 1, 0, 0, "none", "");
    }

    /** Pids 10 (started at tick 500), 11 (/proc hides it) and 12 (started at 900, its command line no daemon's) run. */
    private static final DaemonCheck CHECK = new DaemonCheck(Set.of(10L, 11L, 12L)::contains,
            pid -> Map.of(10L, OptionalLong.of(500), 12L, OptionalLong.of(900)).getOrDefault(pid, OptionalLong.empty()),
            pid -> pid == 12L);

    @Test
    void theDaemonThatWroteTheFileIsTheOneWithItsPidAndItsStartTime() {
        assertThat(CHECK.of(file(10, OptionalLong.of(500)))).isEqualTo(Verdict.LIVE);
        assertThat(CHECK.of(file(10, OptionalLong.of(499)))).as("pid reused by a later process").isEqualTo(Verdict.STALE);
        assertThat(CHECK.of(file(12, OptionalLong.of(900)))).as("same start time, but its command line is no daemon's")
                .isEqualTo(Verdict.STALE);
        assertThat(CHECK.of(file(13, OptionalLong.of(500)))).isEqualTo(Verdict.GONE);
        assertThat(CHECK.of(file(13, OptionalLong.empty()))).isEqualTo(Verdict.GONE);
    }

    @Test
    void whereProcHidesThePidTheFileCountsAsLive() {
        assertThat(CHECK.of(file(11, OptionalLong.of(500)))).isEqualTo(Verdict.LIVE);
    }

    @Test
    void aFileOfAnOlderDaemonWithoutAStartTimeIsStaleWhenThePidIsCertainlyNoDaemon() {
        assertThat(CHECK.of(file(10, OptionalLong.empty()))).isEqualTo(Verdict.LIVE);
        assertThat(CHECK.of(file(11, OptionalLong.empty()))).isEqualTo(Verdict.LIVE);
        assertThat(CHECK.of(file(12, OptionalLong.empty()))).isEqualTo(Verdict.STALE);
    }

    @Test
    void startTimesComeFromProcAndAChildStartsNoEarlierThanItsParent() throws Exception {
        long me = ProcessHandle.current().pid();
        assertThat(ProcessStart.of(me)).isPresent().isEqualTo(ProcessStart.of(me));
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            assertThat(ProcessStart.of(child.pid()).orElseThrow()).isGreaterThanOrEqualTo(ProcessStart.of(me).orElseThrow());
        } finally {
            child.destroyForcibly().waitFor();
        }
        assertThat(ProcessStart.of(999_999_999L)).isEmpty();
    }

    @Test
    void theStartTimeIsFoundPastACommandNameWithSpacesAndParentheses() {
        String stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 10000 200 18446744073709551615";
        assertThat(ProcessStart.parse(stat)).hasValue(987654);
        assertThat(ProcessStart.parse("4242 (cut")).isEmpty();
        assertThat(ProcessStart.parse("4242 (short) S 1 2")).isEmpty();
    }
}
