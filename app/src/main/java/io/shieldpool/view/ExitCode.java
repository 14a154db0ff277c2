package io.shieldpool.view;

/** The process's documented exit codes (sysexits.h values where one fits). */
public enum ExitCode {
    /** Every section that started has ended; the drain was clean. */
    OK(0),
    /** The command line was wrong (EX_USAGE). */
    USAGE(64),
    /** Something the daemon needs is unavailable, such as the admin port being taken (EX_UNAVAILABLE). */
    UNAVAILABLE(69),
    /** An internal error: a bug or a broken runtime (EX_SOFTWARE). */
    INTERNAL(70),
    /** The drain was cut: the grace cap expired or a second SIGINT forced the exit; sections were abandoned (EX_TEMPFAIL). */
    DRAIN_CUT(75),
    /** The configuration is invalid (EX_CONFIG); restarting will not help. */
    CONFIG(78);

    public final int code;

    ExitCode(int code) {
        this.code = code;
    }
}
