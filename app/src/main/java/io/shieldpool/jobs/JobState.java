package io.shieldpool.jobs;

import java.util.Locale;

/**
 * Where a job is in its life. The transitions, each one transaction in the store:
 * <pre>
 *   enqueue ──▶ READY ──claim──▶ RUNNING ──ack──▶ DONE ──retention──▶ (deleted)
 *                 ▲                │  │
 *                 │   fail, attempt < max (run-at = now + backoff)
 *                 ├────────────────┘  │
 *                 │   release, recovery (owner gone)
 *                 ├───────────────────┘
 *                 │                   └─fail, attempt = max──▶ DEAD ──purge──▶ (deleted)
 *                 └──────────────── retry (operator) ◀────────────┘
 * </pre>
 */
public enum JobState {
    /** Waiting to be claimed once its run-at has come. */
    READY,
    /** Claimed by an owner (a daemon); its section may or may not have begun. */
    RUNNING,
    /** Acknowledged: its section completed. Kept for {@code jobs.retention.done}, then deleted. */
    DONE,
    /** Failed on its last allowed attempt; kept until an operator retries or purges it. */
    DEAD;

    /** The name stored and shown: lower case. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The state named {@code label} (case-insensitive). */
    public static JobState of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
