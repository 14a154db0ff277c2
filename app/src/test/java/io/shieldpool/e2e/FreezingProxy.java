package io.shieldpool.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP listener on 127.0.0.1 relaying each connection to a unix socket (a test cluster's
 * {@code .s.PGSQL.N}), that can be frozen: while frozen, nothing it has read is passed on in
 * either direction and new connections are accepted (the kernel completes them) but not relayed,
 * as a network partition looks to a client: no error, no answer. Thawed, everything held goes on,
 * as TCP's retransmissions deliver it once a partition heals.
 */
final class FreezingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final Path target;
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private volatile boolean frozen;
    private volatile boolean closed;

    private FreezingProxy(Path target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("proxy-accept").start(this::acceptLoop);
    }

    /** A proxy in front of the unix socket {@code target}, relaying (not frozen). */
    static FreezingProxy to(Path target) throws IOException {
        return new FreezingProxy(target);
    }

    int port() {
        return listener.getLocalPort();
    }

    void freeze() {
        frozen = true;
    }

    void thaw() {
        frozen = false;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                open.add(client);
                Thread.ofVirtual().start(() -> relay(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        try {
            waitWhileFrozen();
            SocketChannel server = SocketChannel.open(StandardProtocolFamily.UNIX);
            open.add(server);
            server.connect(UnixDomainSocketAddress.of(target));
            InputStream fromServer = Channels.newInputStream(server);
            OutputStream toServer = Channels.newOutputStream(server);
            OutputStream toClient = client.getOutputStream();
            Thread.ofVirtual().start(() -> pump(fromServer, toClient, client, server));
            pump(client.getInputStream(), toServer, client, server);
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
        }
    }

    /** Copies {@code in} to {@code out}, holding what it read while frozen; closes both ends at the end. */
    private void pump(InputStream in, OutputStream out, Socket client, SocketChannel server) {
        byte[] buffer = new byte[16 * 1024];
        try (in; out) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                waitWhileFrozen();
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the other side went away: close both below
        } finally {
            closeQuietly(client);
            closeQuietly(server);
        }
    }

    private void waitWhileFrozen() throws InterruptedException {
        while (frozen && !closed) {
            Thread.sleep(10);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        open.forEach(FreezingProxy::closeQuietly);
    }
}
