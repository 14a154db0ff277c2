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
 * <p>The rule: the pid must run, its start time must be the one the daemon wrote ({@link
 * ProcessStart}; a file of an older daemon has none), and the process under it must not be certainly
 * no shieldpool daemon (the CLI asks /proc/PID/cmdline). Where /proc hides the pid (inside the unit's
 * sandbox, ProtectProc=invisible), nothing more can be told and the file counts as live, as before:
 * there the unit's ExecReload= passes the daemon's pid as systemd knows it ({@code --pid $MAINPID}),
 * so only the file of the very process to be signalled is read.
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
     * @param noDaemon whether the process under the pid is certainly no shieldpool daemon
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
            if (now.isPresent() && now.getAsLong() != file.startTime().getAsLong()) {
                return Verdict.STALE;
            }
        }
        // why asked even when the start times match: a second guard, against a file that names a
        // process it was not written by (copied, edited); a daemon is never judged "no daemon" once
        // it writes its file (it does so from its JVM, past the launcher's execs)
        return noDaemon.test(file.pid()) ? Verdict.STALE : Verdict.LIVE;
    }
}
