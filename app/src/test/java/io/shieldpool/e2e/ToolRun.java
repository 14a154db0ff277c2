package io.shieldpool.e2e;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a short-lived tool printed (stderr merged into stdout) and how it exited: dpkg-deb,
 * systemd-analyze, the packaged launcher's check-config.
 */
record ToolRun(int exitCode, String out) {

    /** Runs the command {@code builder} describes to its end, at most 60 s. */
    static ToolRun of(ProcessBuilder builder) throws Exception {
        // why: the launcher (and train-aot's daemons) must not inherit an ignored SIGINT; see DefaultSignals.
        builder.command(DefaultSignals.command(builder.command()));
        Process process = builder.redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(builder.command() + " did not finish");
        }
        return new ToolRun(process.exitValue(), out);
    }
}
