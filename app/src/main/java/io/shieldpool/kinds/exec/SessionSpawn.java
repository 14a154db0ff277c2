package io.shieldpool.kinds.exec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Starts a command as the leader of a new session, through glibc's {@code posix_spawnp} with
 * {@code POSIX_SPAWN_SETSID}, called over FFM. why not ProcessBuilder plus the setsid program: the
 * child would exist for a few milliseconds in the daemon's process group before setsid(2) ran, and
 * a Ctrl+C landing then killed it (seen in ExecWorkIT). Here the session is created before the
 * command runs, atomically. The child also gets every signal at its default disposition and an
 * empty mask, stdin from /dev/null (or a job's payload), stdout and stderr as pipes, and no other descriptor of the JVM
 * (closefrom 3), so it cannot hold the admin port or a log file open after the daemon has gone.
 *
 * <p>The JDK does not know these children; {@link #waitFor} reaps them with waitpid(2).
 */
final class SessionSpawn {

    /** The oldest glibc with posix_spawn_file_actions_addclosefrom_np (addchdir_np came in 2.29). */
    static final String GLIBC_NEEDED = "2.34";
    private static final int O_CLOEXEC = 0x80000;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    private static final int EINTR = 4;
    /** glibc's sizes are 336 and 80 bytes; room to spare costs nothing. */
    private static final long SPAWN_STRUCT_BYTES = 1024;
    private static final long SIGSET_BYTES = 128;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle PIPE2 = function("pipe2", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle CLOSE = function("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle MEMFD_CREATE = function("memfd_create", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle WRITE = function("write", ValueLayout.JAVA_LONG, JAVA_INT, ADDRESS, ValueLayout.JAVA_LONG);
    private static final MethodHandle LSEEK = function("lseek", ValueLayout.JAVA_LONG, JAVA_INT, ValueLayout.JAVA_LONG, JAVA_INT);
    private static final int MFD_CLOEXEC = 1;
    private static final MethodHandle FA_INIT = function("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_DESTROY = function("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_DUP2 = function("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_OPEN = function("posix_spawn_file_actions_addopen", JAVA_INT, ADDRESS, JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_CHDIR = function("posix_spawn_file_actions_addchdir_np", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle FA_CLOSEFROM = function("posix_spawn_file_actions_addclosefrom_np", JAVA_INT,
            ADDRESS, JAVA_INT);
    private static final MethodHandle ATTR_INIT = function("posix_spawnattr_init", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_DESTROY = function("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_FLAGS = function("posix_spawnattr_setflags", JAVA_INT, ADDRESS, JAVA_SHORT);
    private static final MethodHandle ATTR_SIGMASK = function("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle ATTR_SIGDEFAULT = function("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SPAWNP = function("posix_spawnp", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS);
    private static final MethodHandle WAITPID = LINKER.downcallHandle(symbol(LINKER.defaultLookup(), "waitpid"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.captureCallState("errno"));
    /** fcntl(fd, F_SETFL, flags): variadic after its second argument. */
    private static final MethodHandle FCNTL = LINKER.downcallHandle(symbol(LINKER.defaultLookup(), "fcntl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /**
     * syscall(SYS_pidfd_open, pid, 0). why syscall(2): glibc has a pidfd_open wrapper only from 2.36,
     * and the exec kind runs on 2.34; the kernel call itself is Linux 5.3+ (older: no pidfd, see
     * {@link ChildWatch}).
     */
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(symbol(LINKER.defaultLookup(), "syscall"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    private static final long SYS_PIDFD_OPEN = 434;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 0x800;
    static final int WNOHANG = 1;

    /** The daemon's environment, names sorted, and each "NAME=value" as a C string that lives as long as the JVM. */
    private static final List<String> DAEMON_ENVIRONMENT_NAMES = List.copyOf(new java.util.TreeSet<>(System.getenv().keySet()));
    private static final MemorySegment[] DAEMON_ENVIRONMENT = DAEMON_ENVIRONMENT_NAMES.stream()
            .map(name -> Arena.global().allocateFrom(name + "=" + System.getenv(name))).toArray(MemorySegment[]::new);

    private SessionSpawn() {
    }

    private static MethodHandle function(String name, ValueLayout result, MemoryLayout... arguments) {
        return LINKER.downcallHandle(symbol(LINKER.defaultLookup(), name), FunctionDescriptor.of(result, arguments));
    }

    /**
     * A C library function, or an error saying which one is missing and what the exec kind needs.
     * why an Error: it is thrown from this class's initialization, which a preflight triggers at
     * start-up ({@link ExecWork#platformProblem}) so that it is reported as one line, not met by a
     * worker's spawn thread.
     */
    static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name + " is missing from the C library "
                + "(the exec kind needs glibc " + GLIBC_NEEDED + " or newer)"));
    }

    /** Initializes this class, looking up every C function it calls; see {@link #symbol}. */
    static void load() {
        // the class initialization is the work
    }

    /**
     * A started command: its pid (also its session and process group id), the read ends of its
     * output pipes (non-blocking, owned by the caller, who closes them) and a pidfd that turns
     * readable when it exits (-1 where the kernel has none; owned by the caller too).
     */
    record Child(long pid, int stdout, int stderr, int pidfd) {
    }

    /**
     * Starts {@code argv} (argv[0] looked up on PATH when it has no '/') in a new session.
     *
     * @throws IOException when the command cannot be started (the message carries strerror's words)
     */
    static Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory) throws IOException {
        return spawn(argv, environment, directory, Optional.empty());
    }

    /** The spawner the exec kind uses: stdin from the given bytes (a job's payload), else /dev/null. */
    static final ExecRun.Spawner SPAWNER = new ExecRun.Spawner() {
        @Override
        public Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory) throws IOException {
            return SessionSpawn.spawn(argv, environment, directory, Optional.empty());
        }

        @Override
        public Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory,
                           Optional<byte[]> stdin) throws IOException {
            return SessionSpawn.spawn(argv, environment, directory, stdin);
        }
    };

    /**
     * Like {@link #spawn(List, Map, Optional)}, with {@code stdin}'s bytes as the command's stdin
     * when present: an anonymous memory file (memfd_create) holding them becomes fd 0. why not a
     * pipe: nothing has to feed it while the command runs; why not a temporary file: nothing is left
     * on disk if the daemon is killed, the kernel frees it with its last descriptor.
     */
    static Child spawn(List<String> argv, Map<String, String> environment, Optional<Path> directory,
                       Optional<byte[]> stdin) throws IOException {
        int input = -1;
        try (Arena arena = Arena.ofConfined()) {
            if (stdin.isPresent()) {
                input = memoryFile(arena, stdin.get());
            }
            MemorySegment out = arena.allocate(JAVA_INT, 2);
            MemorySegment err = arena.allocate(JAVA_INT, 2);
            check((int) PIPE2.invokeExact(out, O_CLOEXEC), "pipe2");
            if ((int) PIPE2.invokeExact(err, O_CLOEXEC) != 0) {
                closeQuietly(out.getAtIndex(JAVA_INT, 0));
                closeQuietly(out.getAtIndex(JAVA_INT, 1));
                throw new IOException("pipe2 failed");
            }
            int outRead = out.getAtIndex(JAVA_INT, 0);
            int outWrite = out.getAtIndex(JAVA_INT, 1);
            int errRead = err.getAtIndex(JAVA_INT, 0);
            int errWrite = err.getAtIndex(JAVA_INT, 1);
            MemorySegment actions = arena.allocate(SPAWN_STRUCT_BYTES);
            MemorySegment attributes = arena.allocate(SPAWN_STRUCT_BYTES);
            int spawned;
            MemorySegment pid = arena.allocate(JAVA_INT);
            check((int) FA_INIT.invokeExact(actions), "posix_spawn_file_actions_init");
            check((int) ATTR_INIT.invokeExact(attributes), "posix_spawnattr_init");
            try {
                if (input >= 0) {
                    check((int) FA_DUP2.invokeExact(actions, input, 0), "adddup2");
                } else {
                    check((int) FA_OPEN.invokeExact(actions, 0, arena.allocateFrom("/dev/null"), 0, 0), "addopen");
                }
                check((int) FA_DUP2.invokeExact(actions, outWrite, 1), "adddup2");
                check((int) FA_DUP2.invokeExact(actions, errWrite, 2), "adddup2");
                if (directory.isPresent()) {
                    check((int) FA_CHDIR.invokeExact(actions, arena.allocateFrom(directory.get().toString())), "addchdir");
                }
                check((int) FA_CLOSEFROM.invokeExact(actions, 3), "addclosefrom");
                check((int) ATTR_FLAGS.invokeExact(attributes,
                        (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), "setflags");
                MemorySegment emptyMask = arena.allocate(SIGSET_BYTES);
                check((int) ATTR_SIGMASK.invokeExact(attributes, emptyMask), "setsigmask");
                check((int) ATTR_SIGDEFAULT.invokeExact(attributes, catchableSignals(arena)), "setsigdefault");
                spawned = (int) SPAWNP.invokeExact(pid, arena.allocateFrom(argv.getFirst()), actions, attributes,
                        strings(arena, argv), environment(arena, environment));
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attributes);
                closeQuietly(outWrite);
                closeQuietly(errWrite);
                if (input >= 0) {
                    closeQuietly(input); // the child has its own copy as fd 0
                }
            }
            if (spawned != 0) {
                closeQuietly(outRead);
                closeQuietly(errRead);
                throw new IOException(strerror(spawned));
            }
            int child = pid.get(JAVA_INT, 0);
            // why only the read ends: O_NONBLOCK is a flag of the open pipe end, and the command's
            // own ends must stay blocking, as any program expects of its stdout.
            int unusedOut = (int) FCNTL.invokeExact(outRead, F_SETFL, O_NONBLOCK);
            int unusedErr = (int) FCNTL.invokeExact(errRead, F_SETFL, O_NONBLOCK);
            // why now: the child is not reaped before the caller's waitpid, so its pid cannot have
            // been reused by then, even if it has already exited.
            int pidfd = (int) (long) SYSCALL.invokeExact(SYS_PIDFD_OPEN, child, 0);
            return new Child(child, outRead, errRead, pidfd < 0 ? -1 : pidfd);
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("posix_spawnp failed: " + e, e);
        }
    }

    /**
     * Waits for {@code pid} to exit and reaps it. Blocking in native code: call it on a platform
     * thread (a virtual thread would pin its carrier for the command's whole life).
     *
     * @return the exit status, or 128 + the signal number when a signal ended it
     */
    static int waitFor(long pid) {
        return waitFor(pid, 0);
    }

    /**
     * Like {@link #waitFor(long)}; with {@link #WNOHANG} it does not block.
     *
     * @return the exit status, 128 + a signal, -1 if {@code pid} is not a child, or -2 when
     *         {@code WNOHANG} was given and it has not exited yet
     */
    static int waitFor(long pid, int options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                int rc = (int) WAITPID.invokeExact(state, (int) pid, status, options);
                if (rc == 0) {
                    return -2; // WNOHANG: still running
                }
                if (rc == pid) {
                    int raw = status.get(JAVA_INT, 0);
                    int signal = raw & 0x7f;
                    return signal == 0 ? (raw >> 8) & 0xff : 128 + signal;
                }
                if (rc == -1 && (int) ERRNO.get(state, 0L) != EINTR) {
                    return -1; // not our child (cannot happen: only this class reaps it)
                }
            }
        } catch (Throwable e) {
            throw new IllegalStateException("waitpid failed", e);
        }
    }

    /** Every signal but KILL and STOP (which cannot be caught): all back to their default action. */
    private static MemorySegment catchableSignals(Arena arena) {
        MemorySegment set = arena.allocate(SIGSET_BYTES);
        long bits = 0;
        for (int signal = 1; signal <= 31; signal++) {
            if (signal != 9 && signal != 19) {
                bits |= 1L << (signal - 1);
            }
        }
        set.set(ValueLayout.JAVA_LONG, 0, bits);
        return set;
    }

    /**
     * The envp array: the daemon's environment with {@code extra} added (an extra name replaces the
     * daemon's). why the daemon's part is built once: it cannot change in a running JVM
     * (System.getenv is a snapshot), and copying its few dozen strings per command was a visible
     * part of a short command's cost (B10).
     */
    private static MemorySegment environment(Arena arena, Map<String, String> extra) {
        MemorySegment array = arena.allocate(ADDRESS, DAEMON_ENVIRONMENT_NAMES.size() + extra.size() + 1L);
        int at = 0;
        for (int i = 0; i < DAEMON_ENVIRONMENT_NAMES.size(); i++) {
            if (!extra.containsKey(DAEMON_ENVIRONMENT_NAMES.get(i))) {
                array.setAtIndex(ADDRESS, at++, DAEMON_ENVIRONMENT[i]);
            }
        }
        for (Map.Entry<String, String> e : extra.entrySet()) {
            array.setAtIndex(ADDRESS, at++, arena.allocateFrom(e.getKey() + "=" + e.getValue()));
        }
        array.setAtIndex(ADDRESS, at, MemorySegment.NULL);
        return array;
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    /** An anonymous memory file holding {@code data}, positioned at its start. */
    private static int memoryFile(Arena arena, byte[] data) throws Throwable {
        int fd = (int) MEMFD_CREATE.invokeExact(arena.allocateFrom("shieldpool-job-payload"), MFD_CLOEXEC);
        if (fd < 0) {
            throw new IOException("memfd_create failed");
        }
        MemorySegment bytes = arena.allocate(Math.max(1, data.length));
        MemorySegment.copy(data, 0, bytes, ValueLayout.JAVA_BYTE, 0, data.length);
        long written = 0;
        while (written < data.length) {
            long n = (long) WRITE.invokeExact(fd, bytes.asSlice(written), (long) (data.length - written));
            if (n <= 0) {
                closeQuietly(fd);
                throw new IOException("writing the payload to its memory file failed");
            }
            written += n;
        }
        if ((long) LSEEK.invokeExact(fd, 0L, 0) != 0) {
            closeQuietly(fd);
            throw new IOException("lseek on the payload's memory file failed");
        }
        return fd;
    }

    private static void check(int rc, String what) throws IOException {
        if (rc != 0) {
            throw new IOException(what + " failed: " + strerror(rc));
        }
    }

    static void closeQuietly(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // nothing to do
        }
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 2 -> "No such file or directory";
            case 13 -> "Permission denied";
            case 8 -> "Exec format error";
            case 20 -> "Not a directory";
            case 7 -> "Argument list too long";
            case 12 -> "Cannot allocate memory";
            case 11 -> "Resource temporarily unavailable";
            default -> "error " + errno;
        };
    }
}
