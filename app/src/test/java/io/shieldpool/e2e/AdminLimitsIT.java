package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, section 4: sockets that never send anything, and kept-alive idle ones, stayed open
 * indefinitely. Here 500 silent sockets are held against a cap of 64 while /healthz keeps
 * answering and the pool keeps completing sections; each silent socket is closed, by the cap or by
 * the request-header timeout, and a kept-alive connection is closed once it goes quiet.
 */
@Timeout(120)
class AdminLimitsIT {

    private static final int HELD = 500;
    private static final int CAP = 64;

    @TempDir
    Path dir;

    @Test
    void fiveHundredIdleSocketsNeitherLockOutTheProbesNorStayOpen() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 4
                shieldpool.work.demo.steps = 1
                shieldpool.work.demo.step-duration = 20ms
                shieldpool.work.demo.log-steps = false
                shieldpool.admin.max-connections = %d
                shieldpool.admin.request-header-timeout = 4s
                shieldpool.admin.idle-timeout = 30s
                """.formatted(CAP);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon);
             Selector selector = Selector.open()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            long completedBefore = completed(admin);

            List<SocketChannel> silent = new ArrayList<>();
            for (int i = 0; i < HELD; i++) {
                SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", admin.port()));
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
                silent.add(channel);
            }
            long heldAt = System.nanoTime();
            Set<SocketChannel> closedByServer = new HashSet<>();

            // The probes still answer while the sockets are held, each on a fresh connection.
            List<Long> healthMs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                long start = System.nanoTime();
                assertThat(healthzOnFreshConnection(admin.port())).startsWith("HTTP/1.1 200");
                healthMs.add((System.nanoTime() - start) / 1_000_000);
            }
            // The cap holds: at most CAP of the silent sockets are still open once the server caught up.
            daemon.awaitTrue(() -> poll(selector, closedByServer) >= HELD - CAP, Duration.ofSeconds(3),
                    "at least " + (HELD - CAP) + " silent sockets closed by the cap");
            System.out.printf("AdminLimitsIT: %d silent sockets held, %d closed by the cap within %d ms; /healthz "
                            + "on a fresh connection meanwhile: max %d ms over 20%n", HELD, closedByServer.size(),
                    (System.nanoTime() - heldAt) / 1_000_000, healthMs.stream().mapToLong(Long::longValue).max().orElse(0));
            // The pool kept running through it.
            daemon.awaitTrue(() -> completedQuietly(admin) > completedBefore + 20, Duration.ofSeconds(10),
                    "sections completing while the sockets were held");

            // A kept-alive connection that answered one request and then goes quiet is closed too.
            try (Socket keptAlive = new Socket("127.0.0.1", admin.port())) {
                keptAlive.setSoTimeout(20_000);
                OutputStream out = keptAlive.getOutputStream();
                out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = keptAlive.getInputStream();
                String answer = readUntilClosed(in);
                assertThat(answer).startsWith("HTTP/1.1 200").contains("\"status\":\"ok\"");
            }

            // Every silent socket is closed by the request-header timeout at the latest.
            daemon.awaitTrue(() -> poll(selector, closedByServer) == HELD, Duration.ofSeconds(20),
                    "all " + HELD + " silent sockets closed by the server");
            for (SocketChannel channel : silent) {
                channel.close();
            }
            assertThat(daemon.events("admin.connection-limit")).isNotEmpty()
                    .allSatisfy(e -> assertThat(e.getString("level")).isEqualTo("WARN"));
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("abandoned")).isZero();
        }
    }

    /** Reads what the server sends until it closes the connection (the test fails on SO_TIMEOUT). */
    private static String readUntilClosed(InputStream in) throws IOException {
        StringBuilder text = new StringBuilder();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) > 0) {
            text.append(new String(buffer, 0, n, StandardCharsets.US_ASCII));
        }
        return text.toString();
    }

    private static String healthzOnFreshConnection(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return readUntilClosed(socket.getInputStream());
        }
    }

    /** Notes every silent socket the server has closed (readable, and read() gives -1); returns how many. */
    private static int poll(Selector selector, Set<SocketChannel> closed) {
        try {
            selector.selectNow();
            ByteBuffer sink = ByteBuffer.allocate(256);
            for (SelectionKey key : selector.selectedKeys()) {
                SocketChannel channel = (SocketChannel) key.channel();
                sink.clear();
                int n;
                try {
                    n = channel.read(sink);
                } catch (IOException reset) {
                    n = -1;
                }
                if (n < 0) {
                    closed.add(channel);
                    key.cancel();
                }
            }
            selector.selectedKeys().clear();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return closed.size();
    }

    private static long completed(AdminClient admin) throws IOException, InterruptedException {
        return admin.json("/status?workers=0").getJsonObject("totals").getLong("completed");
    }

    private static long completedQuietly(AdminClient admin) {
        try {
            return completed(admin);
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }
}
