package io.shieldpool.e2e;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster view of real daemons on one real PostgreSQL cluster: {@code shieldpool status}
 * (text and --json) and {@code shieldpool jobs nodes} run through the launcher, {@code /status}
 * over HTTP, and the status page in headless Chromium. A node SIGTERMed in the middle of long
 * sections reads {@code draining} on the other nodes' views from its first signal, with a fresh
 * heartbeat for longer than the node ttl, then {@code stopped}; none of its jobs is rescued and
 * no section runs twice.
 */
@Timeout(240)
class ClusterViewIT {

    private static final Path ARTIFACTS = Path.of(System.getProperty("shieldpool.jar", "target/shieldpool.jar"))
            .toAbsolutePath().getParent().resolve("status-page");
    /** Short leases, so that a drain outlasting the ttl twice over takes seconds, not minutes. */
    private static final String LEASES = """
            shieldpool.jobs.postgresql.heartbeat-interval = 500ms
            shieldpool.jobs.postgresql.node-ttl = 2s
            """;
    private static final long TTL_MS = 2_000;

    @RegisterExtension
    static final PostgresNodes pg = new PostgresNodes();

    @TempDir
    Path dir;

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** A node: exec sections of {@code seconds} that append "S|E job attempt node clock" lines to {@code sections}. */
    private String node(String database, String name, Path sections, double seconds, String extra) {
        return node(database, PostgresNodes.execRecordingWork(sections, name, Double.toString(seconds)), extra);
    }

    /**
     * A node whose sections run until the file {@code release} exists: a drain that lasts until
     * the test has seen the node draining, however slow the machine, and not a second longer.
     */
    private String heldNode(String database, String name, Path sections, Path release) {
        return node(database, PostgresNodes.execRecordingWorkHeldUntil(sections, name, release), "");
    }

    private String node(String database, String work, String extra) {
        return String.join("\n",
                "shieldpool.pool.size = 2",
                work,
                pg.storeOf(database),
                "shieldpool.jobs.poll-interval = 250ms",
                "shieldpool.jobs.claim-batch = 1",
                "shieldpool.jobs.limits.concurrency = 4",
                "shieldpool.jobs.limits.rate = 50",
                "shieldpool.jobs.limits.burst = 10",
                LEASES, extra);
    }

    private Path file(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    private String prepare(int jobs) throws Exception {
        String database = pg.migratedDatabase(dir);
        pg.enqueue(dir, database, jobs);
        return database;
    }

    /** This node's row in a /status document's cluster view, if listed. */
    private static Optional<JsonObject> nodeRow(JsonObject status, long pid) {
        JsonArray nodes = status.getJsonObject("jobs").getJsonObject("cluster").getJsonArray("nodes");
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.getJsonObject(i).getLong("pid") == pid) {
                return Optional.of(nodes.getJsonObject(i));
            }
        }
        return Optional.empty();
    }

    private static String stateOf(AdminClient admin, long pid) {
        try {
            return nodeRow(admin.json("/status?workers=0"), pid).map(n -> n.getString("state")).orElse("(not listed)");
        } catch (Exception e) {
            return "(no answer: " + e + ")";
        }
    }

    private long sectionStarts(Path file, String node) {
        return PostgresNodes.startsBy(file, node);
    }

    @Test
    void aDrainingNodeReadsDrainingWithAFreshHeartbeatThenStoppedAndNoneOfItsJobsIsRescued() throws Exception {
        String database = prepare(40);
        Path sections = dir.resolve("sections.log");
        Path releaseB = dir.resolve("release-b");
        int portA = freePort();
        String configA = node(database, "a", sections, 3, "shieldpool.admin.port = " + portA);
        Path fileA = file("a.conf", configA);
        try (DaemonProcess a = DaemonProcess.start(dir, configA);
             DaemonProcess b = DaemonProcess.start(dir, heldNode(database, "b", sections, releaseB))) {
            a.awaitEvent("ready", Duration.ofSeconds(90));
            b.awaitEvent("ready", Duration.ofSeconds(90));
            AdminClient adminA = AdminClient.of(a);

            // shieldpool status against a real daemon: both nodes, the limits and their use
            ToolRun text = pg.tool(fileA, "status", "--workers", "0");
            assertThat(text.exitCode()).as(text.out()).isZero();
            List<String> lines = text.out().lines().toList();
            assertThat(lines).as(text.out()).contains("cluster    2 node(s): 2 running");
            assertThat(lines).as(text.out()).anyMatch(l -> l.matches(
                    "limits     concurrency 4: [0-4] running; rate 50/s, burst 10: [\\d.]+ token\\(s\\) left"));
            assertThat(lines).as(text.out()).anyMatch(l -> l.matches("  HOST +PID +STATE +HEARTBEAT +HELD +UP"));
            assertThat(lines).as(text.out()).anyMatch(l -> l.matches("  \\S+ +" + a.pid() + " +running +[\\d.]+ s +\\d+ +\\S+  \\(this daemon\\)"));
            assertThat(lines).as(text.out()).anyMatch(l -> l.matches("  \\S+ +" + b.pid() + " +running +[\\d.]+ s +\\d+ +\\S+"));
            ToolRun json = pg.tool(fileA, "status", "--json", "--workers", "0");
            JsonObject clusterView = new JsonObject(json.out()).getJsonObject("jobs").getJsonObject("cluster");
            assertThat(clusterView.getJsonArray("nodes")).hasSize(2);
            assertThat(clusterView.getJsonObject("nodes_by_state").getInteger("running")).isEqualTo(2);
            assertThat(clusterView.getJsonObject("limits").getInteger("concurrency")).isEqualTo(4);
            assertThat(clusterView.getJsonObject("limits").getDouble("rate")).isEqualTo(50.0);

            // SIGTERM b while a section of it runs: held, its drain lasts until the test ends it, over twice the ttl
            b.awaitTrue(() -> sectionStarts(sections, "b") > 0, Duration.ofSeconds(60), "a section of b");
            b.signal("TERM");
            JsonObject begun = b.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            assertThat(begun.getLong("in_flight")).as("b drains sections in flight").isPositive();
            // from the first signal: the other node's view says draining (a heartbeat is sent at once)
            a.awaitTrue(() -> stateOf(adminA, b.pid()).equals("draining"), Duration.ofSeconds(3),
                    "b draining in a's /status");
            // meanwhile, shieldpool jobs nodes (a JVM of its own: seconds to start on a busy machine)
            Path toolConfig = pg.toolConfig(dir, database);
            CompletableFuture<ToolRun> nodesRun = CompletableFuture.supplyAsync(() -> {
                try {
                    return pg.tool(toolConfig, "jobs", "nodes");
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            // a stopping node is not dead: it heartbeats on, for longer than the ttl, and keeps its jobs
            long until = System.nanoTime() + Duration.ofMillis(2 * TTL_MS).toNanos();
            int looks = 0;
            while (System.nanoTime() < until) {
                JsonObject row = nodeRow(adminA.json("/status?workers=0"), b.pid()).orElseThrow();
                assertThat(b.events("shutdown.complete")).as("b still draining after %d looks", looks).isEmpty();
                assertThat(row.getString("state")).as("b while it drains: %s", row).isEqualTo("draining");
                assertThat(row.getLong("heartbeat_age_ms")).as("b's heartbeat while it drains").isLessThan(TTL_MS);
                looks++;
                Thread.sleep(100);
            }
            System.out.printf("b read draining with a fresh heartbeat in %d looks over %d ms (node ttl %d ms)%n", looks,
                    2 * TTL_MS, TTL_MS);
            ToolRun nodes = nodesRun.get(60, TimeUnit.SECONDS);
            assertThat(b.events("shutdown.complete")).as("b drained after jobs nodes had run (its drain outlasted the tool)")
                    .isEmpty();
            assertThat(nodes.out().lines()).as(nodes.out()).anyMatch(l -> l.matches("\\S+ +" + b.pid() + " +draining .*"));
            Files.createFile(releaseB);
            assertThat(b.awaitExit(Duration.ofSeconds(30))).as(b.transcript()).isZero();
            a.awaitTrue(() -> stateOf(adminA, b.pid()).equals("stopped"), Duration.ofSeconds(5), "b stopped in a's /status");
            // and it stays stopped, never dead, once its heartbeats have ended
            Thread.sleep(TTL_MS + 1_000);
            assertThat(stateOf(adminA, b.pid())).isEqualTo("stopped");
            ToolRun after = pg.tool(fileA, "status", "--workers", "0");
            assertThat(after.out().lines()).as(after.out()).contains("cluster    2 node(s): 1 running, 1 stopped")
                    .anyMatch(l -> l.matches("  \\S+ +" + b.pid() + " +stopped +- +- +-"));

            assertThat(a.events("job.recovered")).as("no job of the draining node rescued").isEmpty();
            Map<String, Integer> starts = new HashMap<>();
            for (String l : Files.readAllLines(sections)) {
                if (l.startsWith("S ")) {
                    starts.merge(l.split(" ")[1], 1, Integer::sum);
                }
            }
            assertThat(starts.values()).as("no section ran twice").allMatch(n -> n == 1);
            a.signal("TERM");
            assertThat(a.awaitExit(Duration.ofSeconds(30))).isZero();
            adminA.close();
        }
    }

    @Test
    void theStatusPageShowsEveryNodeTheLimitsAndANodeDrainingAndStaysReadableWithFiftyNodes() throws Exception {
        Optional<Path> chromium = HeadlessChromium.find();
        if (chromium.isEmpty()) {
            System.err.println("WARNING: ClusterViewIT page test skipped: no chromium on PATH (.ci/run installs it)");
        }
        Assumptions.assumeTrue(chromium.isPresent(), "chromium is not installed (apt-get install chromium; see .ci/run)");
        String database = prepare(60);
        Path sections = dir.resolve("sections.log");
        Path releaseC = dir.resolve("release-c");
        try (DaemonProcess a = DaemonProcess.start(dir, node(database, "a", sections, 4, ""));
             DaemonProcess b = DaemonProcess.start(dir, node(database, "b", sections, 4, ""));
             DaemonProcess c = DaemonProcess.start(dir, heldNode(database, "c", sections, releaseC))) {
            for (DaemonProcess d : List.of(a, b, c)) {
                d.awaitEvent("ready", Duration.ofSeconds(90));
            }
            AdminClient admin = AdminClient.of(a);
            HeadlessChromium browser = new HeadlessChromium(chromium.get(), dir.resolve("profile"), 1280, 900);
            try {
            browser.navigate("http://127.0.0.1:" + admin.port() + "/");
            browser.await("!document.getElementById('cluster').hidden && document.querySelectorAll('#nodes .node').length === 3",
                    Duration.ofSeconds(20));
            for (DaemonProcess d : List.of(a, b, c)) {
                browser.await("(document.querySelector('#nodes .node[data-pid=\"" + d.pid() + "\"]') || {}).dataset?.state === 'running'",
                        Duration.ofSeconds(10));
            }
            assertThat((String) browser.evaluate("document.querySelector('#nodes .node.self').dataset.pid"))
                    .isEqualTo(Long.toString(a.pid()));
            assertThat((String) browser.evaluate("document.querySelector('#nodes .node.self .host').textContent"))
                    .endsWith("this daemon");
            assertThat((String) browser.evaluate("document.getElementById('c-nodes').textContent")).isEqualTo("3");
            assertThat((String) browser.evaluate("document.getElementById('c-states').textContent")).isEqualTo("3 running");
            browser.await("/^[1-4] \\/ 4$/.test(document.getElementById('c-concurrency').textContent)", Duration.ofSeconds(20));
            assertThat((String) browser.evaluate("document.getElementById('c-rate-sub').textContent"))
                    .contains("burst 10").contains("50/s");
            browser.screenshot(ARTIFACTS.resolve("cluster-3-nodes.png"));

            // SIGTERM c while a section of it runs: held, its drain lasts until the page has shown it
            c.awaitTrue(() -> sectionStarts(sections, "c") > 0, Duration.ofSeconds(60), "a section of c");
            c.signal("TERM");
            c.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            String card = "document.querySelector('#nodes .node[data-pid=\"" + c.pid() + "\"]')";
            browser.await(card + ".dataset.state === 'draining' && " + card + ".classList.contains('draining')",
                    Duration.ofSeconds(5));
            assertThat((String) browser.evaluate(card + ".textContent")).contains("draining").contains("held");
            assertThat((String) browser.evaluate("document.getElementById('c-states').textContent"))
                    .isEqualTo("2 running · 1 draining");
            browser.screenshot(ARTIFACTS.resolve("cluster-node-draining.png"));
            Files.createFile(releaseC);
            assertThat(c.awaitExit(Duration.ofSeconds(30))).isZero();
            browser.await(card + ".dataset.state === 'stopped'", Duration.ofSeconds(10));

            // Many nodes: 47 more rows, as other daemons on other hosts would write them.
            pg.cluster().psql(database, "INSERT INTO shieldpool_nodes (id, host, pid, ttl, state, in_flight) "
                    + "SELECT 'worker-' || i || '.prod.example.internal/' || (100000 + i) || '/r', "
                    + "'worker-' || i || '.prod.example.internal', 100000 + i, interval '1 hour', "
                    + "CASE WHEN i % 10 = 0 THEN 'draining' ELSE 'running' END, i * 1000 FROM generate_series(1, 47) i");
            browser.await("document.querySelectorAll('#nodes .node').length === 50", Duration.ofSeconds(10));
            assertThat((String) browser.evaluate("document.getElementById('c-states').textContent"))
                    .isEqualTo("45 running · 4 draining · 1 stopped");
            // readable: cards in a grid, none squeezed, every host name and figure on its own line
            double gridHeight = ((Number) browser.evaluate("document.getElementById('nodes').getBoundingClientRect().height")).doubleValue();
            double narrowest = ((Number) browser.evaluate(
                    "Math.min(...[...document.querySelectorAll('#nodes .node')].map(n => n.getBoundingClientRect().width))")).doubleValue();
            Object overflowing = browser.evaluate("[...document.querySelectorAll('#nodes .node .facts')]"
                    + ".filter(f => f.scrollWidth > f.clientWidth).length");
            System.out.printf("50 nodes at 1280x900: node grid %.0f px high, narrowest card %.0f px%n", gridHeight, narrowest);
            assertThat(gridHeight).isLessThan(700);
            assertThat(narrowest).isGreaterThanOrEqualTo(200);
            assertThat(((Number) overflowing).intValue()).as("cards whose heartbeat/held line is cut").isZero();
            browser.screenshot(ARTIFACTS.resolve("cluster-50-nodes.png"));
            assertThat(browser.problems()).as("console errors").isEmpty();
            a.signal("TERM");
            b.signal("TERM");
            assertThat(a.awaitExit(Duration.ofSeconds(30))).isZero();
            assertThat(b.awaitExit(Duration.ofSeconds(30))).isZero();
            } finally {
                browser.close();
                admin.close();
            }
        }
    }
}
