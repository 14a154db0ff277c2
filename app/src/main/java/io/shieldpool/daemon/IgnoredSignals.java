package io.shieldpool.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * One WARN line at start per trapped signal that the process inherited as ignored. why: a signal
 * ignored when the JVM starts cannot be caught (the JVM keeps SIG_IGN), so the daemon silently
 * does nothing on it; an operator who sends it must learn that from the log, not from a daemon
 * that "hangs". The usual cause is a background job of a non-interactive shell (SIGINT and
 * SIGQUIT ignored), {@code nohup} (SIGHUP), or a supervisor that ignores a signal before exec.
 */
final class IgnoredSignals {

    private static final Logger log = LoggerFactory.getLogger(IgnoredSignals.class);

    private IgnoredSignals() {
    }

    static void warn(List<String> ignored) {
        for (String name : ignored) {
            log.atWarn().addKeyValue("event", "signal.ignored").addKeyValue("signal", "SIG" + name)
                    .log("SIG{} was ignored when this process started ({}), and a signal ignored at start cannot be "
                            + "caught: {} does nothing; {}", name, cause(name), effect(name), stillWorks(name, ignored));
        }
    }

    private static String cause(String name) {
        return switch (name) {
            case "INT" -> "inherited: a background job of a non-interactive shell, 'cmd &', gets SIGINT ignored";
            case "HUP" -> "inherited: nohup, or a parent that ignores SIGHUP";
            default -> "inherited from the parent process";
        };
    }

    private static String effect(String name) {
        return switch (name) {
            case "INT" -> "Ctrl+C and kill -INT";
            case "TERM" -> "kill -TERM (and systemctl stop, docker stop)";
            case "HUP" -> "kill -HUP (the config reload)";
            case "TTIN" -> "kill -TTIN (grow the pool)";
            case "TTOU" -> "kill -TTOU (shrink the pool)";
            default -> "kill -" + name;
        };
    }

    private static String stillWorks(String name, List<String> ignored) {
        String other = name.equals("INT") ? "TERM" : "INT";
        return switch (name) {
            case "INT", "TERM" -> (ignored.contains(other)
                    ? "neither SIGTERM nor SIGINT can stop it gracefully, only SIGKILL (which cuts sections)"
                    : "SIG" + other + " still drains and exits")
                    + "; start it with env --default-signal=" + name + " in front to get SIG" + name + " back";
            case "HUP" -> "a restart applies a new config file; start it without nohup to reload by signal";
            default -> "set pool.size in the config file and reload (SIGHUP) instead";
        };
    }
}
