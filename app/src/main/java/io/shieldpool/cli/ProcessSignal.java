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

    private ProcessSignal() {
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
            int errno = (int) ERRNO.get(state, 0L);
            return Optional.of(switch (errno) {
                case EPERM -> "not permitted (run it as root or as the daemon's user)";
                case ESRCH -> NO_SUCH_PROCESS;
                default -> "errno " + errno;
            });
        } catch (Throwable e) {
            return Optional.of(e.toString());
        }
    }
}
