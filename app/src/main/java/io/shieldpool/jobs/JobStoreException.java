package io.shieldpool.jobs;

/**
 * A store could not do what was asked for a reason an operator can act on (the file is locked by
 * another daemon, the schema is newer than this build). Its message is one line, shown as is.
 */
public class JobStoreException extends RuntimeException {

    /** Why: whether a retry or a restart could help, or the configuration must change. */
    public enum Kind {
        /** Another daemon holds the store; this one must not start (exit 69). */
        IN_USE,
        /** The store cannot be opened or used as configured (exit 78 at start). */
        UNUSABLE,
        /**
         * The store does not answer now (nothing listening, an unknown host, no answer in time, a
         * server shutting down or out of connections): a retry may help. The daemon waits for it;
         * the command-line tools exit 69.
         */
        UNREACHABLE,
        /** The store was closed, or a statement failed. */
        FAILED
    }

    private final Kind kind;

    public JobStoreException(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public JobStoreException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
