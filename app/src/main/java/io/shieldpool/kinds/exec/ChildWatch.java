package io.shieldpool.kinds.exec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Waits for one started command while logging its output, all on the calling platform thread:
 * one poll(2) over the two output pipes (their read ends are non-blocking) and the command's
 * pidfd, which turns readable when it exits. why one thread, not a waiter and two readers: three
 * platform threads started per command cost the daemon more CPU than the command itself for a
 * short one (B10: /bin/true), and a blocking read on a virtual thread pins its carrier (issue 13).
 * Output is handed to the {@link OutputPump}s as soon as poll wakes, so a line is logged when it
 * is written, whatever the command does meanwhile.
 *
 * <p>Used by one thread at a time (its native buffers belong to the thread that made it).
 */
final class ChildWatch implements AutoCloseable {

    private static final int CHUNK = 8192;
    /** 64 KiB, a pipe's default capacity. */
    private static final int READS_PER_WAKE = 8;
    /** Without a pidfd (a kernel before 5.3) the exit is checked this often. */
    private static final int NO_PIDFD_POLL_MS = 10;
    private static final short POLLIN = 0x1;
    private static final long POLLFD_BYTES = 8; // struct pollfd { int fd; short events; short revents; }
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int NOT_EXITED = Integer.MIN_VALUE;
    private static final int STILL_RUNNING = -2;
    /** A century: as good as no limit, and still clear of long overflow in nanoseconds. */
    private static final Duration NO_LIMIT = Duration.ofDays(36_500);

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle POLL = LINKER.downcallHandle(
            SessionSpawn.symbol(LINKER.defaultLookup(), "poll"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Linker.Option.captureCallState("errno"));
    private static final MethodHandle READ = LINKER.downcallHandle(
            SessionSpawn.symbol(LINKER.defaultLookup(), "read"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.captureCallState("errno"));

    private final long pid;
    private final OutputPump stdout;
    private final OutputPump stderr;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment pollFds = arena.allocate(POLLFD_BYTES * 3, 8);
    private final MemorySegment buffer = arena.allocate(CHUNK);
    private final MemorySegment callState = arena.allocate(CALL_STATE);
    private final byte[] chunk = new byte[CHUNK];
    /** Descriptors still open; -1 once closed. */
    private int stdoutFd;
    private int stderrFd;
    private int pidfd;
    private int exitStatus = NOT_EXITED;

    ChildWatch(SessionSpawn.Child child, OutputPump stdout, OutputPump stderr) {
        this.pid = child.pid();
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdoutFd = child.stdout();
        this.stderrFd = child.stderr();
        this.pidfd = child.pidfd();
    }

    /** The pipes another watch has let go of; on the thread that reads them to their end. */
    private ChildWatch(long pid, OutputPump stdout, OutputPump stderr, int stdoutFd, int stderrFd) {
        this.pid = pid;
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdoutFd = stdoutFd;
        this.stderrFd = stderrFd;
        this.pidfd = -1;
    }

    /**
     * Blocks until the command exits, reading its output meanwhile, and reaps it.
     *
     * @return its exit status, 128 + the signal that ended it, or -1 if it was not a child of ours
     */
    int awaitExit() throws Throwable {
        while (exitStatus == NOT_EXITED) {
            boolean exitReady = poll(pidfd >= 0 ? -1 : NO_PIDFD_POLL_MS, true);
            if (exitReady || pidfd < 0) {
                int status = SessionSpawn.waitFor(pid, SessionSpawn.WNOHANG);
                if (status != STILL_RUNNING) {
                    exitStatus = status;
                    closePidfd();
                }
            }
        }
        return exitStatus;
    }

    /**
     * Reads the output until {@code done} holds, checked after each wake-up and at least every
     * {@code checkMillis}, or until {@code limit} has passed.
     */
    void readUntil(BooleanSupplier done, Duration limit, int checkMillis) throws Throwable {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            poll((int) Math.min(checkMillis, Math.max(1, left / 1_000_000)), false);
        }
    }

    /** Whether both output pipes reached their end. */
    boolean outputEnded() {
        return stdoutFd < 0 && stderrFd < 0;
    }

    /**
     * The command has gone but something outside its group still holds a pipe open (a process that
     * left the group with setsid): a thread of its own reads on until the end, so that writer is
     * neither blocked nor cut off, and this watch lets go of the pipes.
     */
    void readRestInBackground() {
        if (outputEnded()) {
            return;
        }
        int outFd = stdoutFd;
        int errFd = stderrFd;
        stdoutFd = -1;
        stderrFd = -1;
        Thread.ofPlatform().daemon().name("exec-output-" + pid).start(() -> {
            try (ChildWatch rest = new ChildWatch(pid, stdout, stderr, outFd, errFd)) {
                rest.readUntil(rest::outputEnded, NO_LIMIT, Integer.MAX_VALUE);
            } catch (Throwable ignored) {
                // nothing left to tell: the section has ended
            }
        });
    }

    /** One poll(2) and the reads it allows; true when the pidfd (if {@code withPidfd}) is ready. */
    private boolean poll(int timeoutMillis, boolean withPidfd) throws Throwable {
        int count = 0;
        count = add(count, stdoutFd);
        count = add(count, stderrFd);
        int pidfdAt = -1;
        if (withPidfd && pidfd >= 0) {
            pidfdAt = count;
            count = add(count, pidfd);
        }
        int ready = (int) POLL.invokeExact(callState, pollFds, (long) count, timeoutMillis);
        if (ready < 0) {
            if ((int) ERRNO.get(callState, 0L) == EINTR) {
                return false;
            }
            throw new IllegalStateException("poll failed: errno " + (int) ERRNO.get(callState, 0L));
        }
        if (ready == 0) {
            return false;
        }
        boolean exitReady = false;
        for (int i = 0; i < count; i++) {
            short revents = pollFds.get(JAVA_SHORT, i * POLLFD_BYTES + 6);
            if (revents == 0) {
                continue;
            }
            int fd = pollFds.get(JAVA_INT, i * POLLFD_BYTES);
            if (i == pidfdAt) {
                exitReady = true;
            } else if (fd == stdoutFd) {
                if (!read(fd, stdout)) {
                    SessionSpawn.closeQuietly(stdoutFd);
                    stdoutFd = -1;
                }
            } else if (fd == stderrFd && !read(fd, stderr)) {
                SessionSpawn.closeQuietly(stderrFd);
                stderrFd = -1;
            }
        }
        return exitReady;
    }

    private int add(int at, int fd) {
        if (fd < 0) {
            return at;
        }
        long offset = at * POLLFD_BYTES;
        pollFds.set(JAVA_INT, offset, fd);
        pollFds.set(JAVA_SHORT, offset + 4, POLLIN);
        pollFds.set(JAVA_SHORT, offset + 6, (short) 0);
        return at + 1;
    }

    /**
     * Reads a ready pipe, handing each chunk to its pump: until a short read (the pipe is empty for
     * now), at most {@link #READS_PER_WAKE} chunks. why a cap: poll is level-triggered, so a pipe
     * with more comes back at once, and a stream written faster than it is read cannot starve the
     * command's other one.
     *
     * @return false at the end of the pipe (or an error that ends it): the pump has finished
     */
    private boolean read(int fd, OutputPump pump) throws Throwable {
        for (int reads = 0; reads < READS_PER_WAKE; reads++) {
            long n = (long) READ.invokeExact(callState, fd, buffer, (long) CHUNK);
            if (n > 0) {
                MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                pump.accept(chunk, (int) n);
                if (n < CHUNK) {
                    return true;
                }
                continue;
            }
            if (n < 0) {
                int errno = (int) ERRNO.get(callState, 0L);
                if (errno == EAGAIN || errno == EINTR) {
                    return true;
                }
            }
            pump.finish();
            return false;
        }
        return true;
    }

    private void closePidfd() {
        if (pidfd >= 0) {
            SessionSpawn.closeQuietly(pidfd);
            pidfd = -1;
        }
    }

    /** Closes what is still open (a last partial line is logged) and frees the native buffers. */
    @Override
    public void close() {
        closePidfd();
        if (stdoutFd >= 0) {
            stdout.finish();
            SessionSpawn.closeQuietly(stdoutFd);
            stdoutFd = -1;
        }
        if (stderrFd >= 0) {
            stderr.finish();
            SessionSpawn.closeQuietly(stderrFd);
            stderrFd = -1;
        }
        arena.close();
    }
}
