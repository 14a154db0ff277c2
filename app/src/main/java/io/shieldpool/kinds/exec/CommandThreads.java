package io.shieldpool.kinds.exec;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The platform threads that run commands: one per command running (it spawns the command, reads
 * its output and waits for it, see {@link ChildWatch}), as many as run at once, each kept for
 * {@link #IDLE_SECONDS} once idle. why reused: starting a platform thread per command (an mmap'd
 * stack, a clone, its teardown) was a large part of a short command's cost (B10: /bin/true 8 at a
 * time). why platform threads: poll(2) and waitpid(2) block in native code, which would pin a
 * virtual thread's carrier for the command's whole life. Daemon threads, never shut down: an
 * idle one ends by itself, and one still running a command at exit is waited for by
 * {@link Children#terminateAll}, not by this pool.
 */
final class CommandThreads implements Executor {

    static final long IDLE_SECONDS = 60;
    private static final String IDLE_NAME = "exec-idle";
    /** The thread only polls, copies bytes and logs; room to spare for the logging stack. */
    private static final long STACK_BYTES = 512 * 1024;

    private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_SECONDS,
            TimeUnit.SECONDS, new SynchronousQueue<>(),
            Thread.ofPlatform().daemon().stackSize(STACK_BYTES).name(IDLE_NAME).factory());

    /**
     * Runs {@code command} on an idle thread, or a new one.
     *
     * @throws java.util.concurrent.RejectedExecutionException or an Error when no thread can be had
     */
    @Override
    public void execute(Runnable command) {
        pool.execute(() -> {
            try {
                command.run();
            } finally {
                Thread.currentThread().setName(IDLE_NAME); // the command named it for its section
            }
        });
    }
}
