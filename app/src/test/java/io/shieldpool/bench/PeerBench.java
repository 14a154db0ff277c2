package io.shieldpool.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 13, section 6: the work kinds beside what a user would pick instead, in the same run,
 * alternating. B9: 64 concurrent GETs of a static file from a local nginx, by the http kind, by a
 * Go net/http loop and by aiohttp (the seed's asyncio pattern). B10: {@code /bin/true} 8 at a
 * time, by the exec kind and by {@code xargs -P8}. A peer that is not installed is skipped with
 * one line ({@code src/bench/install-peers.sh}, run by the bench profile, installs them).
 */
final class PeerBench {

    private static final int HTTP_CONCURRENCY = 64;
    private static final int EXEC_CONCURRENCY = 8;
    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final Path GO = Path.of("/usr/bin/go");
    /** Debian's python3, where python3-aiohttp installs (a python3 earlier on PATH may lack it). */
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    private final boolean full;
    private final Path launcher;
    private final Path dir;
    private final BenchMain.Rows rows;
    private final Path sources;

    PeerBench(boolean full, Path launcher, Path dir, BenchMain.Rows rows) {
        this.full = full;
        this.launcher = launcher;
        this.dir = dir;
        this.rows = rows;
        this.sources = launcher.toAbsolutePath().getParent().getParent().resolve("src/bench");
    }

    // ---- B9: the http kind ----

    void b9HttpKind() throws Exception {
        if (!Files.isExecutable(NGINX)) {
            System.out.println("bench: B9 skipped: no " + NGINX + " (apt-get install nginx-light)");
            return;
        }
        double seconds = full ? 10 : 2;
        int reps = full ? 5 : 1;
        Path goLoop = buildGoLoop();
        boolean aiohttp = aiohttpAvailable();
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"))) {
            String url = nginx.url();
            double[] ours = new double[reps];
            double[] oursCold = new double[reps];
            double[] go = new double[reps];
            double[] python = new double[reps];
            double[] ratios = new double[reps];
            for (int i = 0; i < reps; i++) {
                DaemonRate rate = httpKindRate(url, seconds);
                ours[i] = rate.warm();
                oursCold[i] = rate.cold();
                go[i] = goLoop == null ? Double.NaN : peerRate(List.of(goLoop.toString(), url,
                        Integer.toString(HTTP_CONCURRENCY), Double.toString(seconds)), Map.of());
                python[i] = !aiohttp ? Double.NaN : peerRate(List.of(PYTHON.toString(),
                        sources.resolve("http-loop-aiohttp.py").toString(), url, Integer.toString(HTTP_CONCURRENCY),
                        Double.toString(seconds)), Map.of());
                ratios[i] = ours[i] / go[i];
                System.out.printf(Locale.ROOT, "bench: B9 run %d: http kind %,.0f/s (whole run from ready %,.0f/s), "
                                + "Go %,.0f/s, aiohttp %,.0f/s, ratio to Go %.2f, load average %.1f%n", i + 1, ours[i],
                        oursCold[i], go[i], python[i], ratios[i], loadAverage());
            }
            String scenario = "B9 " + HTTP_CONCURRENCY + " concurrent GETs of a static file from nginx: http kind";
            if (goLoop != null) {
                rows.add(scenario + " vs a Go net/http loop", "requests/s", BenchMain.median(ours), BenchMain.median(go),
                        ">= Go loop", BenchMain.median(ours) >= BenchMain.median(go));
                System.out.printf(Locale.ROOT, "bench: B9 median of the per-run ratios to Go: %.2f%n", BenchMain.median(ratios));
                rows.add(scenario + " from a cold start (whole run from ready, JIT warm-up included) vs the Go loop",
                        "requests/s", BenchMain.median(oursCold), BenchMain.median(go), "none", null);
            }
            if (aiohttp) {
                rows.add(scenario + " vs aiohttp (the seed's pattern)", "requests/s", BenchMain.median(ours),
                        BenchMain.median(python), "none", null);
            }
            if (goLoop == null && !aiohttp) {
                rows.add(scenario, "requests/s", BenchMain.median(ours), Double.NaN, "none", null);
            }
        }
    }

    /** The 1-minute load average: the neighbours' share of the 2 cores is part of every figure. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private DaemonRate httpKindRate(String url, double seconds) throws Exception {
        Path file = dir.resolve("b9.conf");
        Files.writeString(file, String.format(Locale.ROOT, """
                shieldpool.log.format = json
                shieldpool.admin.port = 0
                shieldpool.pool.size = %d
                shieldpool.work.type = http
                shieldpool.work.http.url = "%s"
                shieldpool.shutdown.grace = 60s
                """, HTTP_CONCURRENCY, url));
        return daemonRate(file, seconds);
    }

    /**
     * A daemon's rate two ways, from one run.
     *
     * @param warm sections completed per second over {@code seconds}, counted through the admin
     *             endpoint's {@code /status} after a warm-up: what a daemon that has run a while does
     * @param cold sections completed per second from {@code ready} to {@code shutdown.complete},
     *             warm-up included (the JIT compiles the hot path during the first seconds, later
     *             still on a loaded machine)
     */
    record DaemonRate(double warm, double cold) {
    }

    /** The warm-up before the counted window: past the JIT's first compilations of the hot path. */
    private long warmUpMs() {
        return full ? 10_000 : 500;
    }

    private DaemonRate daemonRate(Path config, double seconds) throws Exception {
        BenchProcess p = new BenchProcess(List.of(launcher.toString(), "--config", config.toString()));
        long ready = p.await("ready", 30_000);
        URI totals = URI.create("http://127.0.0.1:" + p.event("admin.listening").getInteger("port") + "/status?workers=0");
        double warm;
        try (HttpClient probe = HttpClient.newHttpClient()) {
            Thread.sleep(warmUpMs());
            long c0 = completed(probe, totals);
            long t0 = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            long c1 = completed(probe, totals);
            warm = (c1 - c0) / ((System.nanoTime() - t0) / 1e9);
        }
        p.signal("TERM");
        long complete = p.await("shutdown.complete", 60_000);
        p.awaitExit(60_000);
        JsonObject summary = p.event("shutdown.complete");
        if (summary.getLong("failed") > 0) {
            System.out.println("bench: note: " + summary.getLong("failed") + " sections failed in " + config.getFileName());
        }
        return new DaemonRate(warm, summary.getLong("completed") / ((complete - ready) / 1e9));
    }

    private static long completed(HttpClient client, URI totals) throws Exception {
        String body = client.send(HttpRequest.newBuilder(totals).build(), HttpResponse.BodyHandlers.ofString()).body();
        return new JsonObject(body).getJsonObject("totals").getLong("completed");
    }

    /** Runs a peer that prints "RATE FAILED" on its last line; returns RATE. */
    private static double peerRate(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0 || output.isEmpty()) {
            throw new IllegalStateException(command.getFirst() + " failed: " + output);
        }
        String[] last = output.lines().reduce((a, b) -> b).orElseThrow().split(" ");
        if (last.length > 1 && !last[1].equals("0")) {
            System.out.println("bench: note: " + last[1] + " requests failed in " + command);
        }
        return Double.parseDouble(last[0]);
    }

    private Path buildGoLoop() throws Exception {
        if (!Files.isExecutable(GO)) {
            System.out.println("bench: B9's Go peer skipped: no " + GO + " (apt-get install golang-go)");
            return null;
        }
        Path binary = dir.resolve("http-loop");
        Path cache = Files.createDirectories(dir.resolve("go-cache")).toAbsolutePath();
        ProcessBuilder build = new ProcessBuilder(GO.toString(), "build", "-o", binary.toString(),
                sources.resolve("http-loop.go").toString()).redirectErrorStream(true);
        build.environment().putAll(Map.of("GOCACHE", cache.toString(), "GOPATH", cache.resolve("path").toString(),
                "GO111MODULE", "off", "GOFLAGS", ""));
        Process process = build.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            System.out.println("bench: B9's Go peer skipped: go build failed: " + output.strip());
            return null;
        }
        return binary;
    }

    private static boolean aiohttpAvailable() throws Exception {
        if (Files.isExecutable(PYTHON)) {
            Process check = new ProcessBuilder(PYTHON.toString(), "-c", "import aiohttp").redirectErrorStream(true).start();
            check.getInputStream().readAllBytes();
            if (check.waitFor() == 0) {
                return true;
            }
        }
        System.out.println("bench: B9's aiohttp peer skipped: no aiohttp for " + PYTHON + " (apt-get install python3-aiohttp)");
        return false;
    }

    /** A private nginx serving one static file on a free loopback port. */
    private record Nginx(Process process, int port, Path root) implements AutoCloseable {

        static Nginx start(Path root) throws Exception {
            Files.createDirectories(root.resolve("html"));
            Files.writeString(root.resolve("html/static.txt"), "shieldpool benchmark static file\n".repeat(20));
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            Path conf = root.resolve("nginx.conf");
            Files.writeString(conf, String.format(Locale.ROOT, """
                    worker_processes auto;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log warn;
                    events { worker_connections 1024; }
                    http {
                      access_log off;
                      sendfile on;
                      keepalive_requests 1000000;
                      keepalive_timeout 60s;
                      client_body_temp_path %1$s/tmp-body;
                      proxy_temp_path %1$s/tmp-proxy;
                      fastcgi_temp_path %1$s/tmp-fastcgi;
                      uwsgi_temp_path %1$s/tmp-uwsgi;
                      scgi_temp_path %1$s/tmp-scgi;
                      server {
                        listen 127.0.0.1:%2$d;
                        root %1$s/html;
                      }
                    }
                    """, root.toAbsolutePath(), port));
            Process process = new ProcessBuilder(NGINX.toString(), "-p", root.toAbsolutePath().toString(), "-c",
                    conf.toAbsolutePath().toString(), "-g", "daemon off;").redirectErrorStream(true)
                    .redirectOutput(root.resolve("nginx.out").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException notYet) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException("nginx did not start: " + Files.readString(root.resolve("nginx.out")));
                    }
                    Thread.sleep(20);
                }
            }
            return new Nginx(process, port, root);
        }

        String url() {
            return "http://127.0.0.1:" + port + "/static.txt";
        }

        @Override
        public void close() throws Exception {
            process.destroy(); // SIGTERM: nginx's fast shutdown, workers included
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    // ---- B10: the exec kind ----

    void b10ExecKind() throws Exception {
        double seconds = full ? 10 : 2;
        int reps = full ? 5 : 1;
        int commands = full ? 10_000 : 500;
        double[] ours = new double[reps];
        double[] xargs = new double[reps];
        Path file = dir.resolve("b10.conf");
        Files.writeString(file, String.format(Locale.ROOT, """
                shieldpool.log.format = json
                shieldpool.admin.port = 0
                shieldpool.pool.size = %d
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/bin/true"]
                shieldpool.shutdown.grace = 60s
                """, EXEC_CONCURRENCY));
        double[] oursCold = new double[reps];
        double[] ratios = new double[reps];
        for (int i = 0; i < reps; i++) {
            DaemonRate rate = daemonRate(file, seconds);
            ours[i] = rate.warm();
            oursCold[i] = rate.cold();
            xargs[i] = xargsRate(commands);
            ratios[i] = ours[i] / xargs[i];
            System.out.printf(Locale.ROOT, "bench: B10 run %d: exec kind %,.0f/s (whole run from ready %,.0f/s), "
                    + "xargs %,.0f/s, ratio %.2f, load average %.1f%n", i + 1, ours[i], oursCold[i], xargs[i], ratios[i],
                    loadAverage());
        }
        System.out.printf(Locale.ROOT, "bench: B10 median of the per-run ratios to xargs: %.2f%n", BenchMain.median(ratios));
        rows.add("B10 /bin/true " + EXEC_CONCURRENCY + " at a time: exec kind vs xargs -P" + EXEC_CONCURRENCY,
                "commands/s", BenchMain.median(ours), BenchMain.median(xargs), ">= xargs",
                BenchMain.median(ours) >= BenchMain.median(xargs));
        rows.add("B10 the same from a cold start (whole run from ready) vs xargs", "commands/s",
                BenchMain.median(oursCold), BenchMain.median(xargs), "none", null);
    }

    private static double xargsRate(int commands) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                "seq " + commands + " | xargs -P" + EXEC_CONCURRENCY + " -n1 /bin/true"));
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).inheritIO().start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException("xargs failed");
        }
        return commands / ((System.nanoTime() - start) / 1e9);
    }
}
