package io.shieldpool.logging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether stdout is connected to journald. systemd sets {@code JOURNAL_STREAM=device:inode} for a
 * service whose output goes to the journal; as sd-daemon(3) advises, it counts only if stdout is
 * still that stream (a child whose output was redirected elsewhere inherits the variable too).
 */
final class JournalStream {

    private JournalStream() {
    }

    /** True when {@code JOURNAL_STREAM} names the stream stdout is connected to. */
    static boolean isStdout(Map<String, String> env) {
        return is(1, env);
    }

    /**
     * True when {@code JOURNAL_STREAM} names the stream stderr is connected to: the unit's default
     * (StandardError=inherit) sends stderr to the same journal stream as stdout.
     */
    static boolean isStderr(Map<String, String> env) {
        return is(2, env);
    }

    private static boolean is(int fd, Map<String, String> env) {
        String stream = env.get("JOURNAL_STREAM");
        if (stream == null || stream.isBlank()) {
            return false;
        }
        try {
            Map<String, Object> attributes = Files.readAttributes(Path.of("/proc/self/fd/" + fd), "unix:dev,ino");
            return stream.trim().equals(attributes.get("dev") + ":" + attributes.get("ino"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // why: /proc may be hidden (ProcSubset=pid keeps it, but not everything does): then the
            // variable is all we have, and systemd only sets it for journal output.
            return true;
        }
    }
}
