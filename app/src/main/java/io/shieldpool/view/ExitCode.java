package io.shieldpool.view;

/** The process's documented exit codes (sysexits.h values where one fits). */
public enum ExitCode {
    /** Every section that started has ended; the drain was clean. */
    OK(0, "the pool drained cleanly"),
    /** The command line was wrong (EX_USAGE). */
    USAGE(64, "bad command line"),
    /** Something the daemon needs is unavailable, such as the admin port being taken (EX_UNAVAILABLE). */
    UNAVAILABLE(69, "the admin server could not listen (port taken, address not local), or another daemon holds the job store"),
    /** An internal error: a bug or a broken runtime (EX_SOFTWARE). */
    INTERNAL(70, "internal error"),
    /** The drain was cut: the grace cap expired or a second SIGINT forced the exit; sections were abandoned (EX_TEMPFAIL). */
    DRAIN_CUT(75, "the drain was cut (grace expired or a second SIGINT): sections were abandoned"),
    /** The configuration is invalid (EX_CONFIG); restarting will not help. */
    CONFIG(78, "invalid configuration");

    public final int code;
    /** One line for --help. */
    public final String summary;

    ExitCode(int code, String summary) {
        this.code = code;
        this.summary = summary;
    }
}
