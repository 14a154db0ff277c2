package io.shieldpool.daemon;

import io.shieldpool.jobs.StoreWait;
import io.shieldpool.signals.SignalSource;
import io.shieldpool.systemd.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The daemon's side of waiting at start for a job store whose server does not answer: systemd is
 * told why it is not ready yet ({@code STATUS=}), and SIGTERM or SIGINT ends the wait (the daemon
 * then exits 0: nothing had started). why signals here: until the supervisor exists the trap only
 * queues signals, so a stop asked for during a long wait would otherwise be seen only after it.
 * Other signals that arrive while waiting are ignored (there is no pool to reload or resize).
 */
final class StartupWait implements StoreWait {

    private static final Logger log = LoggerFactory.getLogger(StartupWait.class);

    private final SignalSource signals;
    private final Map<String, String> env;
    private volatile String stopSignal;
    private volatile boolean trapping;

    StartupWait(SignalSource signals, Map<String, String> env) {
        this.signals = signals;
        this.env = env;
    }

    @Override
    public void waiting(String url, String error) {
        trapping = true;
        signals.attach(name -> {
            if (name.equals("TERM") || name.equals("INT")) {
                stopSignal = name;
            } else {
                log.atDebug().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIG" + name)
                        .addKeyValue("state", "starting").log("SIG{} ignored: waiting for the job store", name);
            }
        });
        SystemdNotifier.statusBeforeStart(env, "waiting for the job store " + url + ": " + error);
    }

    /**
     * The wait is over (the store opened, or failed): signals queue again for the supervisor, which
     * attaches next. Call before checking {@link #stopRequested} a last time, so that a signal is
     * either seen here or delivered to the supervisor, never lost in between.
     */
    void over() {
        if (trapping) {
            trapping = false;
            signals.attach(null);
        }
    }

    @Override
    public boolean stopRequested() {
        return stopSignal != null;
    }

    /** The signal that ended the wait (TERM or INT), or null. */
    String stopSignal() {
        return stopSignal;
    }
}
