package io.shieldpool.cli;

/**
 * The syslog priority prefix journald reads at the start of a line ({@code <3>} is err), for the
 * CLI's own error lines when its output goes to the journal (systemd sets {@code JOURNAL_STREAM}),
 * as under {@code ExecReload=}; nothing on a terminal.
 */
final class Priority {

    static final String ERROR = prefix("<3>");

    private Priority() {
    }

    private static String prefix(String priority) {
        String stream = System.getenv("JOURNAL_STREAM");
        return stream == null || stream.isBlank() ? "" : priority;
    }
}
