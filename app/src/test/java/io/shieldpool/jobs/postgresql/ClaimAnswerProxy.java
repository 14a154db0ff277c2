package io.shieldpool.jobs.postgresql;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A unix-socket proxy between a store and a {@link PostgresCluster} that can hold back the answer
 * to one claim <em>after its commit landed</em>, then either deliver it late or lose it by cutting
 * the connection: the case {@code release-strays} exists for, made deterministic. It reads the
 * wire protocol's message framing (type byte, length) in both directions: a Bind of one of the
 * store's claim statements (known from the Parse that named it) arms the connection; from there
 * the server's messages are held until a ReadyForQuery whose status is idle (the claim's own
 * transaction has committed; replies up to a ReadyForQuery "in transaction" are passed on, or a
 * client claiming in an explicit transaction, as a limited claim did before schema 6, would never
 * send its COMMIT; since schema 6 a limited claim is one statement too). The server never
 * sees a difference: the commit is real. Store URLs point at {@link #uri}.
 */
final class ClaimAnswerProxy implements AutoCloseable {

    private static final Set<String> CLAIMS;

    static {
        SqlStatements sql = SqlStatements.load("statements.sql");
        CLAIMS = Set.of(sql.get("claim"), sql.get("claim-after"), sql.get("claim-limited"));
    }

    private final Path dir;
    private final Path server;
    private final ServerSocketChannel listener;
    private final AtomicReference<HeldAnswer> armed = new AtomicReference<>();
    private final List<SocketChannel> open = new ArrayList<>();

    private ClaimAnswerProxy(Path dir, Path server, ServerSocketChannel listener) {
        this.dir = dir;
        this.server = server;
        this.listener = listener;
    }

    /** A proxy listening in a fresh temp directory for {@code cluster}'s server. */
    static ClaimAnswerProxy start(PostgresCluster cluster) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "shieldpool-pgproxy-");
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(dir.resolve(".s.PGSQL.5432")));
        ClaimAnswerProxy proxy = new ClaimAnswerProxy(dir, cluster.socketDirectory().resolve(".s.PGSQL.5432"), listener);
        Thread.ofPlatform().daemon().name("pgproxy-accept").start(proxy::accept);
        return proxy;
    }

    /** The URI of {@code database} through this proxy. */
    String uri(String database) {
        return "postgresql://postgres@/" + database + "?host=" + dir;
    }

    /** The next claim any connection sends: its answer is held once its commit has landed. */
    HeldAnswer holdNextClaim() {
        HeldAnswer held = new HeldAnswer();
        if (!armed.compareAndSet(null, held)) {
            throw new IllegalStateException("a claim is already armed");
        }
        return held;
    }

    /** The answer to one claim, held by the proxy after the claim's commit. */
    static final class HeldAnswer {
        private final CompletableFuture<Integer> committed = new CompletableFuture<>();
        private final CompletableFuture<Boolean> deliver = new CompletableFuture<>();

        /** Waits for the claim's commit; returns how many rows (claimed jobs) its answer carries. */
        int awaitCommitted(Duration within) throws Exception {
            return committed.get(within.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Passes the held answer on: a late answer, as from a slow network. */
        void deliver() {
            deliver.complete(true);
        }

        /** Loses the held answer: both sides of the connection are closed, the client is told nothing. */
        void cut() {
            deliver.complete(false);
        }
    }

    private void accept() {
        while (listener.isOpen()) {
            try {
                SocketChannel client = listener.accept();
                SocketChannel upstream = SocketChannel.open(UnixDomainSocketAddress.of(server));
                synchronized (open) {
                    open.add(client);
                    open.add(upstream);
                }
                Connection connection = new Connection(client, upstream);
                Thread.ofPlatform().daemon().name("pgproxy-up").start(connection::clientToServer);
                Thread.ofPlatform().daemon().name("pgproxy-down").start(connection::serverToClient);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** One proxied connection: the two pumps and what the client's messages told about its claim. */
    private final class Connection {
        private final SocketChannel client;
        private final SocketChannel upstream;
        /** Statement name -> SQL, from the client's Parse messages. */
        private final Map<String, String> statements = new HashMap<>();
        private volatile HeldAnswer claim;

        Connection(SocketChannel client, SocketChannel upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void clientToServer() {
            try {
                // the startup message has no type byte: int32 length, then the rest
                ByteBuffer length = read(client, 4);
                ByteBuffer startup = read(client, length.getInt(0) - 4);
                write(upstream, length, startup);
                while (true) {
                    ByteBuffer header = read(client, 5);
                    ByteBuffer body = read(client, header.getInt(1) - 4);
                    byte type = header.get(0);
                    if (type == 'P') {
                        String name = cstring(body, 0);
                        statements.put(name, cstring(body, name.getBytes(StandardCharsets.UTF_8).length + 1));
                    } else if (type == 'B') {
                        String portal = cstring(body, 0);
                        String statement = cstring(body, portal.getBytes(StandardCharsets.UTF_8).length + 1);
                        // why before forwarding: the server's answer can only come after this is set
                        if (CLAIMS.contains(statements.get(statement))) {
                            HeldAnswer held = armed.getAndSet(null);
                            if (held != null) {
                                claim = held;
                            }
                        }
                    }
                    write(upstream, header, body);
                }
            } catch (IOException e) {
                closeBoth();
            }
        }

        void serverToClient() {
            List<ByteBuffer> held = new ArrayList<>();
            int rows = 0;
            boolean completed = false;
            try {
                while (true) {
                    ByteBuffer header = read(upstream, 5);
                    ByteBuffer body = read(upstream, header.getInt(1) - 4);
                    HeldAnswer answer = claim;
                    if (answer == null) {
                        write(client, header, body);
                        continue;
                    }
                    held.add(header);
                    held.add(body);
                    byte type = header.get(0);
                    if (type == 'D') {
                        rows++;
                    } else if (type == 'C') {
                        completed = true;
                    } else if (type == 'Z') {
                        byte status = body.get(0);
                        if (status == 'T' || !completed) {
                            // a prepare's answer (no statement ran yet), or inside the limited claim's
                            // transaction: nothing committed yet, pass it on
                            write(client, held.toArray(ByteBuffer[]::new));
                            held.clear();
                            continue;
                        }
                        claim = null;
                        if (status == 'E') {
                            answer.committed.completeExceptionally(new IllegalStateException("the claim's transaction failed"));
                            write(client, held.toArray(ByteBuffer[]::new));
                        } else {
                            answer.committed.complete(rows);
                            if (answer.deliver.get()) {
                                write(client, held.toArray(ByteBuffer[]::new));
                            } else {
                                closeBoth();
                                return;
                            }
                        }
                        held.clear();
                        rows = 0;
                        completed = false;
                    }
                }
            } catch (Exception e) {
                closeBoth();
            }
        }

        private void closeBoth() {
            try {
                client.close();
            } catch (IOException ignored) {
                // closing
            }
            try {
                upstream.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private static String cstring(ByteBuffer body, int from) {
        int end = from;
        while (body.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - from];
        body.get(from, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static ByteBuffer read(SocketChannel channel, int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("closed");
            }
        }
        return buffer.flip();
    }

    private static void write(SocketChannel channel, ByteBuffer... buffers) throws IOException {
        for (ByteBuffer buffer : buffers) {
            buffer.rewind();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (open) {
            for (SocketChannel channel : open) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        try {
            Files.deleteIfExists(dir.resolve(".s.PGSQL.5432"));
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp directory
        }
    }
}
