package io.shieldpool.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * {@code kill(2)} for the CLI: the JDK can send only SIGTERM and SIGKILL to another process
 * ({@code ProcessHandle.destroy}), and running {@code /bin/kill} would add a program the unit's
 * sandbox must allow. libc through the Foreign Function &amp; Memory API, as for sd_notify.
 */
final class ProcessSignal {

    static final int SIGHUP = 1;
    private static final int EPERM = 1;
    private static final int ESRCH = 3;
    static final String NO_SUCH_PROCESS = "no such process";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle KILL = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("kill"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));

    /** Linux's numbers for these, the same on every architecture but alpha (new calls since 5.1 share them). */
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    // why syscall(2): glibc wraps pidfd_open only since 2.36; the kernel's call is there since 5.3
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("syscall"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("close"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private ProcessSignal() {
    }

    /**
     * Sends {@code signal} to {@code pid} only if {@code theOne}, asked while the process is held,
     * says it is the process meant. why a pidfd: with kill(2) alone, the process judged could exit and
     * its pid go to another between the judgement and the signal; a pidfd opened before the judgement
     * names the process judged, whatever becomes of the pid (the signal then fails: no such process).
     * Where there are no pidfds (Linux before 5.3, a seccomp filter that refuses them), the judgement
     * and kill(2) follow each other as closely as they can.
     *
     * @param notTheOne what to say when {@code theOne} says no
     * @return empty when sent, else why not, in words
     */
    static Optional<String> sendIf(long pid, int signal, BooleanSupplier theOne, String notTheOne) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            long pidfd = (long) SYSCALL.invokeExact(state, SYS_PIDFD_OPEN, pid, 0L, 0L, 0L);
            if (pidfd < 0) {
                if ((int) ERRNO.get(state, 0L) == ESRCH) {
                    return Optional.of(NO_SUCH_PROCESS);
                }
                return theOne.getAsBoolean() ? send(pid, signal) : Optional.of(notTheOne);
            }
            try {
                if (!theOne.getAsBoolean()) {
                    return Optional.of(notTheOne);
                }
                long result = (long) SYSCALL.invokeExact(state, SYS_PIDFD_SEND_SIGNAL, pidfd, (long) signal, 0L, 0L);
                return result == 0 ? Optional.empty() : Optional.of(why((int) ERRNO.get(state, 0L)));
            } finally {
                int ignored = (int) CLOSE.invokeExact((int) pidfd); // why the int: invokeExact needs the exact type
            }
        } catch (Throwable e) {
            return Optional.of(e.toString());
        }
    }

    /**
     * Whether {@code pid} runs, by {@code kill(pid, 0)}. why: inside the unit's sandbox
     * (PrivateUsers=, ProtectProc=invisible) /proc hides the daemon from its own ExecReload=, so
     * {@code ProcessHandle.of} says it is gone; the kernel's signal check does not.
     */
    static boolean alive(long pid) {
        return send(pid, 0).map(why -> !why.equals(NO_SUCH_PROCESS)).orElse(true);
    }

    /**
     * Sends {@code signal} to {@code pid}.
     *
     * @return empty when sent, else why not, in words
     */
    static Optional<String> send(long pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int result = (int) KILL.invokeExact(state, (int) pid, signal);
            if (result == 0) {
                return Optional.empty();
            }
            return Optional.of(why((int) ERRNO.get(state, 0L)));
        } catch (Throwable e) {
            return Optional.of(e.toString());
        }
    }

    private static String why(int errno) {
        return switch (errno) {
            case EPERM -> "not permitted (run it as root or as the daemon's user)";
            case ESRCH -> NO_SUCH_PROCESS;
            default -> "errno " + errno;
        };
    }
}
