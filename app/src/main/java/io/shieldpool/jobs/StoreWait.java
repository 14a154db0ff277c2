package io.shieldpool.jobs;

/**
 * How a daemon waits at start for a shared store whose server does not answer yet (the database is
 * down, starting, or its host not up). The store retries with backoff while the server does not
 * answer; a server that answers and refuses (wrong password, no such database) fails at once. An
 * embedded store (SQLite) whose file another process keeps locked waits its busy timeout, and a
 * stop request ends that wait too.
 */
public interface StoreWait {

    /** Do not wait: the first failure to reach the server fails the open (tools, tests). */
    StoreWait NEVER = new StoreWait() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void waiting(String url, String error) {
        }

        @Override
        public boolean stopRequested() {
            return true;
        }
    };

    /** Whether to wait at all. */
    default boolean enabled() {
        return true;
    }

    /**
     * Called once, at the first attempt that found no server answering.
     *
     * @param url   the store's URL, any password hidden
     * @param error what the attempt found, one line
     */
    void waiting(String url, String error);

    /** Polled between attempts: true ends the wait without a store (a stop was asked for). */
    boolean stopRequested();
}
