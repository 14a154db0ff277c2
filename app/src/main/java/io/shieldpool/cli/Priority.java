package io.shieldpool.cli;

/**
 * The syslog priority prefix journald reads at the start of a line ({@code <3>} is err), for the
 * lines the CLI writes itself before (or instead of) logging: config errors at start-up, a bad
 * command line, {@code shieldpool reload}'s outcome under {@code ExecReload=}. Only when systemd
 * connected the output to the journal ({@code JOURNAL_STREAM}); nothing on a terminal. So
 * {@code journalctl -u shieldpool -p err} shows why a start failed.
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
