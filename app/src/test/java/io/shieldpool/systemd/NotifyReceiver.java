package io.shieldpool.systemd;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * systemd's side of sd_notify, for tests: a real AF_UNIX datagram socket bound to a path or an
 * abstract name, collecting every datagram received, with its arrival time. Written independently
 * of the daemon's sender (its own FFM calls: socket, bind, setsockopt, recv), so a bug in one is not
 * mirrored in the other.
 */
public final class NotifyReceiver implements AutoCloseable {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = handle("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = handle("bind",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECV = handle("recv",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** One datagram and when it arrived (System.nanoTime). */
    public record Message(String text, long receivedNanos) {
        public boolean has(String field) {
            return text.lines().anyMatch(line -> line.equals(field) || line.startsWith(field.endsWith("=") ? field : field + "="));
        }

        /** The value of {@code KEY=} in this datagram, or null. */
        public String value(String key) {
            return text.lines().filter(line -> line.startsWith(key + "=")).map(line -> line.substring(key.length() + 1))
                    .findFirst().orElse(null);
        }
    }

    private final String address;
    private final int fd;
    private final List<Message> messages = new ArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    private NotifyReceiver(String address) {
        this.address = address;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) SOCKET.invokeExact(1 /* AF_UNIX */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
            if (fd < 0) {
                throw new IllegalStateException("socket() failed");
            }
            byte[] name = address.getBytes(StandardCharsets.UTF_8);
            MemorySegment sockaddr = arena.allocate(110);
            sockaddr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            MemorySegment.copy(name, 0, sockaddr, ValueLayout.JAVA_BYTE, 2, name.length);
            int length;
            if (name[0] == '@') {
                sockaddr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                length = 2 + name.length;
            } else {
                length = 2 + name.length + 1;
            }
            if ((int) BIND.invokeExact(fd, sockaddr, length) != 0) {
                throw new IllegalStateException("bind(" + address + ") failed");
            }
            MemorySegment timeout = arena.allocate(16, 8); // struct timeval: 200 ms, so close() is seen
            timeout.set(ValueLayout.JAVA_LONG, 0, 0L);
            timeout.set(ValueLayout.JAVA_LONG, 8, 200_000L);
            if ((int) SETSOCKOPT.invokeExact(fd, 1 /* SOL_SOCKET */, 20 /* SO_RCVTIMEO */, timeout, 16) != 0) {
                throw new IllegalStateException("setsockopt(SO_RCVTIMEO) failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        reader = Thread.ofPlatform().daemon().name("notify-receiver").start(this::receive);
    }

    /** Binds a socket file at {@code path}. */
    public static NotifyReceiver atPath(Path path) {
        return new NotifyReceiver(path.toAbsolutePath().toString());
    }

    /** Binds an abstract address; {@code name} without the leading "@". */
    public static NotifyReceiver abstractNamed(String name) {
        return new NotifyReceiver("@" + name);
    }

    /** What to put in NOTIFY_SOCKET. */
    public String address() {
        return address;
    }

    private void receive() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096);
            while (!closed) {
                long n = (long) RECV.invokeExact(fd, buffer, 4096L, 0);
                if (n > 0) {
                    byte[] bytes = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    synchronized (this) {
                        messages.add(new Message(new String(bytes, StandardCharsets.UTF_8), System.nanoTime()));
                        notifyAll();
                    }
                }
            }
        } catch (Throwable e) {
            if (!closed) {
                throw new IllegalStateException(e);
            }
        }
    }

    public synchronized List<Message> messages() {
        return List.copyOf(messages);
    }

    /** Waits for the first message at index >= {@code from} matching {@code match}; returns its index. */
    public synchronized int await(int from, Predicate<Message> match, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < messages.size(); i++) {
                if (match.test(messages.get(i))) {
                    return i;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + what + " within " + timeout + " (from message " + from + "); received:\n"
                        + transcript());
            }
            wait(Math.max(1, Math.min(left / 1_000_000, 100)));
        }
    }

    public synchronized String transcript() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            out.append("  #").append(i).append(' ').append(messages.get(i).text().replace("\n", " | ")).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        reader.join(2000);
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor);
    }
}
