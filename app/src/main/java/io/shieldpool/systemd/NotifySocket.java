package io.shieldpool.systemd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The sending end of systemd's notification protocol ({@code sd_notify}): one AF_UNIX datagram
 * socket, and {@code sendto} to the address in {@code $NOTIFY_SOCKET}, a path or an abstract name
 * ({@code @name}). Plain NIO cannot send unix datagrams (and rejects abstract names), so this
 * calls libc through the Foreign Function &amp; Memory API; no native library ships with us, and no
 * {@code systemd-notify} subprocess is run (it races: systemd may see its pid, not ours).
 *
 * <p>Sends never block ({@code MSG_DONTWAIT}) and never throw: a failed send is logged at debug and
 * reported as false, because the daemon must work the same whether systemd listens or not.
 */
final class NotifySocket implements AutoCloseable {

    /** Set once by {@link #close}; sends after it are dropped. Guarded by {@code this}. */
    private boolean closed;

    private static final Logger log = LoggerFactory.getLogger(NotifySocket.class);

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** sizeof(sockaddr_un.sun_path) on Linux. */
    static final int SUN_PATH_MAX = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDTO = downcall("sendto",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOCK_GETTIME = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("clock_gettime"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final int CLOCK_MONOTONIC = 1;
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("close"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final String address;
    /** why: an automatic arena, so a send racing close() (the watchdog thread) never meets a freed address. */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment sockaddr;
    private final int sockaddrLength;
    private final int fd;

    private NotifySocket(String address, int fd) {
        this.address = address;
        this.fd = fd;
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        // sockaddr_un: a 2-byte family, then the path. An abstract name ("@x") is a NUL then the
        // name, and its length counts no trailing NUL; a path is NUL-terminated.
        this.sockaddr = arena.allocate(2 + SUN_PATH_MAX);
        sockaddr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, sockaddr, ValueLayout.JAVA_BYTE, 2, name.length);
        if (name[0] == '@') {
            sockaddr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            this.sockaddrLength = 2 + name.length;
        } else {
            this.sockaddrLength = 2 + name.length + 1;
        }
    }

    /**
     * The socket for {@code $NOTIFY_SOCKET}, or empty when it is unset, unusable or the socket cannot
     * be created (each logged once, at debug for "unset" and warn for the others).
     */
    static Optional<NotifySocket> open(String notifySocket) {
        if (notifySocket == null || notifySocket.isEmpty()) {
            return Optional.empty();
        }
        int length = notifySocket.getBytes(StandardCharsets.UTF_8).length;
        if ((notifySocket.charAt(0) != '/' && notifySocket.charAt(0) != '@') || length >= SUN_PATH_MAX) {
            // why: systemd also accepts vsock: addresses (VMs); we only speak AF_UNIX, and say so.
            log.atWarn().addKeyValue("event", "systemd.notify-unusable")
                .log("NOTIFY_SOCKET={} is not a unix socket path or @abstract name we can use: systemd will not "
                    + "hear from shieldpool (no READY, no watchdog pings)", notifySocket);
            return Optional.empty();
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = call.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                log.atWarn().addKeyValue("event", "systemd.notify-unusable")
                .log("cannot create a unix datagram socket for NOTIFY_SOCKET (errno {}): systemd will not hear "
                        + "from shieldpool", (int) ERRNO.get(state, 0L));
                return Optional.empty();
            }
            return Optional.of(new NotifySocket(notifySocket, fd));
        } catch (Throwable e) {
            log.atWarn().addKeyValue("event", "systemd.notify-unusable")
                .log("cannot use NOTIFY_SOCKET ({}): systemd will not hear from shieldpool", e.toString());
            return Optional.empty();
        }
    }

    /**
     * Sends one notification, e.g. {@code "READY=1\nSTATUS=4/4 workers"}. Thread-safe (one datagram
     * per call), non-blocking.
     *
     * @return true if the datagram was handed to the kernel
     */
    synchronized boolean send(String message) {
        if (closed) {
            // why: a watchdog tick still running when the daemon closes the socket must not write
            // to a descriptor the kernel may already have given to something else.
            return false;
        }
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buffer = call.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment state = call.allocate(CAPTURED);
            long sent = (long) SENDTO.invokeExact(state, fd, buffer, (long) bytes.length,
                    MSG_DONTWAIT | MSG_NOSIGNAL, sockaddr, sockaddrLength);
            if (sent < 0) {
                log.atDebug().addKeyValue("event", "systemd.notify-failed")
                .log("sd_notify to {} failed (errno {}): {}", address, (int) ERRNO.get(state, 0L),
                        firstLine(message));
                return false;
            }
            return true;
        } catch (Throwable e) {
            log.atDebug().addKeyValue("event", "systemd.notify-failed")
                .log("sd_notify to {} failed: {}", address, e.toString());
            return false;
        }
    }

    String address() {
        return address;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable e) {
            log.atDebug().addKeyValue("event", "systemd.notify-close-failed")
                .log("closing the notify socket: {}", e.toString());
        }
    }

    /**
     * CLOCK_MONOTONIC in microseconds, as {@code MONOTONIC_USEC=} wants it. why: read from the clock
     * systemd compares against rather than assumed to be what {@code System.nanoTime()} uses.
     */
    static long monotonicMicros() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment timespec = call.allocate(16, 8);
            int rc = (int) CLOCK_GETTIME.invokeExact(CLOCK_MONOTONIC, timespec);
            if (rc == 0) {
                return timespec.get(ValueLayout.JAVA_LONG, 0) * 1_000_000 + timespec.get(ValueLayout.JAVA_LONG, 8) / 1000;
            }
        } catch (Throwable e) {
            log.atDebug().addKeyValue("event", "systemd.clock-failed")
                .log("clock_gettime failed: {}", e.toString());
        }
        return System.nanoTime() / 1000; // the same clock on Linux HotSpot
    }

    private static String firstLine(String message) {
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline) + " ...";
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor,
                Linker.Option.captureCallState("errno"));
    }
}
