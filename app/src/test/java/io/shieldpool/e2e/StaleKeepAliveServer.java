package io.shieldpool.e2e;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A raw-socket HTTP/1.1 server that closes kept-alive connections the racy way, made
 * deterministic: it answers the first request of each connection with keep-alive, and the next
 * request the client sends on that connection is read and dropped as the connection closes, the
 * way a server's idle timeout (or a proxy dropping idle connections) meets a client reusing the
 * connection at that moment. The client sees a reused connection close with no byte of an answer.
 */
final class StaleKeepAliveServer implements AutoCloseable {

    /** What happens to the second request of a connection. */
    enum Drop {
        /** The connection closes (FIN): Vert.x reports "Connection was closed". */
        CLOSE,
        /** The connection is reset (RST): "Connection reset". */
        RESET,
        /** CLOSE and RESET in turn, connection by connection. */
        CLOSE_OR_RESET,
        /** Part of a status line and headers is written, then the connection is reset: an answer had begun. */
        ANSWER_BEGUN_THEN_RESET,
        /**
         * The first connection's second request is held {@link #LATE_CLOSE_MS} before the connection
         * closes; every later connection reads its requests and never answers.
         */
        LATE_CLOSE_THEN_SILENCE,
        /** CLOSE, and the server stops listening once it has accepted its first connection: later connects are refused. */
        CLOSE_THEN_REFUSE
    }

    /** How long {@link Drop#LATE_CLOSE_THEN_SILENCE} holds the dropped request. */
    static final long LATE_CLOSE_MS = 1500;

    /** One request as received: on which connection (1, 2, ...), and whether it was answered. */
    record Request(int connection, String method, String path, String body, boolean answered) {
    }

    private final ServerSocket socket;
    private final Drop drop;
    private final List<Request> requests = new ArrayList<>();
    private final List<Socket> open = new ArrayList<>();
    private int connections;

    StaleKeepAliveServer(Drop drop) throws IOException {
        this.drop = drop;
        this.socket = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "stale-keep-alive-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + socket.getLocalPort() + path;
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    synchronized long answered() {
        return requests.stream().filter(Request::answered).count();
    }

    synchronized long dropped() {
        return requests.stream().filter(r -> !r.answered()).count();
    }

    private void accept() {
        try {
            while (true) {
                Socket client = socket.accept();
                int number;
                synchronized (this) {
                    number = ++connections;
                    open.add(client);
                }
                if (drop == Drop.CLOSE_THEN_REFUSE) {
                    socket.close();
                }
                Thread serving = new Thread(() -> serve(client, number), "stale-keep-alive-" + number);
                serving.setDaemon(true);
                serving.start();
            }
        } catch (IOException closed) {
            // the server was closed
        }
    }

    private void serve(Socket client, int connection) {
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            for (int served = 0; ; served++) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
                String body = new String(in.readNBytes(contentLength(head)), StandardCharsets.UTF_8);
                boolean silent = drop == Drop.LATE_CLOSE_THEN_SILENCE && connection > 1;
                boolean answer = served == 0 && !silent;
                synchronized (this) {
                    requests.add(new Request(connection, requestLine[0], requestLine[1], body, answer));
                }
                if (answer) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    continue;
                }
                switch (drop) {
                    case LATE_CLOSE_THEN_SILENCE -> {
                        if (silent) {
                            continue; // read the next request, if any, and answer none
                        }
                        Thread.sleep(LATE_CLOSE_MS);
                    }
                    case CLOSE, CLOSE_THEN_REFUSE -> { }
                    case RESET -> client.setSoLinger(true, 0);
                    case CLOSE_OR_RESET -> {
                        if (connection % 2 == 0) {
                            client.setSoLinger(true, 0);
                        }
                    }
                    case ANSWER_BEGUN_THEN_RESET -> {
                        out.write("HTTP/1.1 200 OK\r\nContent-Le".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        // why: the client must have read the partial answer before the reset arrives
                        Thread.sleep(50);
                        client.setSoLinger(true, 0);
                    }
                }
                return;
            }
        } catch (IOException | InterruptedException e) {
            // the client went away or the server was closed
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
                return head.toString();
            }
        }
        return null;
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        return 0;
    }

    @Override
    public void close() throws IOException {
        socket.close();
        synchronized (this) {
            for (Socket client : open) {
                client.close();
            }
        }
    }
}
