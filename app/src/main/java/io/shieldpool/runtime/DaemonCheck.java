package io.shieldpool.runtime;

import java.util.OptionalLong;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * Whether the daemon that wrote a {@link StateFile} is the process now under its pid. why: a daemon
 * that is SIGKILLed, OOM-killed or loses power (with a /tmp that survives) leaves its file behind; once
 * its pid is reused, a check of the pid alone would have {@code shieldpool reload} send SIGHUP to an
 * unrelated process, which SIGHUP terminates by default.
 *
 * <p>The rule: the pid must run, and its start time must be the one the daemon wrote ({@link
 * ProcessStart}). A file of an older daemon, written without one, is stale when the process now under
 * the pid is certainly no shieldpool daemon (the CLI asks /proc/PID/cmdline). Where /proc hides the
 * pid (inside the unit's sandbox, ProtectProc=invisible), nothing more can be told and the file counts
 * as live, as before: there the unit's ExecReload= passes the daemon's pid as systemd knows it
 * ({@code --pid $MAINPID}), so only the file of the very process to be signalled is read.
 */
public final class DaemonCheck {

    /** What a state file's pid is now. */
    public enum Verdict {
        /** The daemon that wrote the file. */
        LIVE,
        /** No process has the pid. */
        GONE,
        /** Another process has the pid: the daemon that wrote the file is gone. */
        STALE
    }

    private final LongPredicate exists;
    private final LongFunction<OptionalLong> startTimes;
    private final LongPredicate noDaemon;

    /**
     * @param exists   whether a process has the pid
     * @param noDaemon whether the process under the pid is certainly no shieldpool daemon; asked only of
     *                 a file that records no start time
     */
    public DaemonCheck(LongPredicate exists, LongPredicate noDaemon) {
        this(exists, ProcessStart::of, noDaemon);
    }

    DaemonCheck(LongPredicate exists, LongFunction<OptionalLong> startTimes, LongPredicate noDaemon) {
        this.exists = exists;
        this.startTimes = startTimes;
        this.noDaemon = noDaemon;
    }

    /** The daemon's own check of the files it finds at start: by ProcessHandle, start times, no command lines. */
    static DaemonCheck inDaemon() {
        return new DaemonCheck(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), pid -> false);
    }

    /** What {@code file}'s pid is now. */
    public Verdict of(StateFile file) {
        if (!exists.test(file.pid())) {
            return Verdict.GONE;
        }
        if (file.startTime().isPresent()) {
            OptionalLong now = startTimes.apply(file.pid());
            // why no command-line check once the start times match: pid and start time name one
            // process, and a daemon run by a launcher the check does not know would be turned away
            return now.isPresent() && now.getAsLong() != file.startTime().getAsLong() ? Verdict.STALE : Verdict.LIVE;
        }
        return noDaemon.test(file.pid()) ? Verdict.STALE : Verdict.LIVE;
    }
}
