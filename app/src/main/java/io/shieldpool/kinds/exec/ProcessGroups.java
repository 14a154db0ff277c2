package io.shieldpool.kinds.exec;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Signals to whole process groups, through libc's {@code kill(2)} with a negative pid (the JDK can
 * only signal single processes). A non-blocking system call: safe on an event loop.
 */
final class ProcessGroups {

    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    private static final MethodHandle KILL;

    static {
        Linker linker = Linker.nativeLinker();
        KILL = linker.downcallHandle(linker.defaultLookup().find("kill").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private ProcessGroups() {
    }

    /**
     * Sends {@code signal} to every process of group {@code pgid}.
     *
     * @return false when no process of the group is left (or it may not be signalled)
     */
    static boolean signal(long pgid, int signal) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("process group " + pgid);
        }
        try {
            return (int) KILL.invokeExact((int) -pgid, signal) == 0;
        } catch (Throwable e) {
            throw new IllegalStateException("kill(2) failed", e);
        }
    }

    /** Whether any process of group {@code pgid} is alive (signal 0 checks without sending). */
    static boolean alive(long pgid) {
        return signal(pgid, 0);
    }

    /**
     * Polls {@code done} every {@code pollMillis} until it holds or {@code limit} has passed.
     * Blocking: never on an event loop. An interrupt does not end the wait (the callers wait for
     * processes to go, which an interrupt does not make happen sooner) and is set again on return;
     * the wait goes on sleeping meanwhile, it does not spin.
     */
    static void awaitUntil(BooleanSupplier done, Duration limit, long pollMillis) {
        long deadline = System.nanoTime() + limit.toNanos();
        boolean interrupted = false;
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                // why: setting the flag again at once would make every later sleep throw at once,
                // a busy loop until the deadline; it is set again when the wait is over.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
