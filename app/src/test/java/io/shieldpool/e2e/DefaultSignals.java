package io.shieldpool.e2e;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts {@code env --default-signal=INT,QUIT,HUP} in front of a command that starts a daemon. why: Java's
 * ProcessBuilder passes on the dispositions this JVM was started with, and a test run started as a
 * background job of a script ({@code (bash .ci/run &)}) has SIGINT ignored; a daemon started with it
 * ignored cannot catch it, and every SIGINT test failed. A run started under {@code nohup} has SIGHUP
 * ignored the same way: its daemons never reloaded (a P1 bench under nohup waited 5 minutes for
 * nodes that had not seen the SIGHUP resizing them). {@code env} execs the command in place, so
 * the pid the test signals is still the daemon's (the launcher execs java too).
 */
public final class DefaultSignals {

    private DefaultSignals() {
    }

    /** {@code command}, started with SIGINT, SIGQUIT and SIGHUP at their default action (coreutils >= 8.31). */
    public static List<String> command(List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of("env", "--default-signal=INT,QUIT,HUP"));
        wrapped.addAll(command);
        return wrapped;
    }
}
