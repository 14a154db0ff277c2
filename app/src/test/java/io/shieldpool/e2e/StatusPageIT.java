package io.shieldpool.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live status page of the real daemon, in Debian's headless Chromium: it loads with no console
 * error, draws one cell per worker (the first 1000 when there are more), and shows the drain
 * countdown after SIGTERM. Screenshots are kept under {@code app/target/status-page/}.
 *
 * <p>Needs the {@code chromium} package ({@code .ci/run} installs it). Where it is missing the
 * tests are skipped, visibly, so that {@code mvn verify} still works on a machine without it.
 */
@Timeout(180)
class StatusPageIT {

    private static final Path ARTIFACTS = Path.of(System.getProperty("shieldpool.jar", "target/shieldpool.jar"))
            .toAbsolutePath().getParent().resolve("status-page");

    private static Path chromium;

    @TempDir
    Path dir;

    @BeforeAll
    static void findChromium() {
        chromium = HeadlessChromium.find().orElse(null);
        if (chromium == null) {
            System.err.println("WARNING: StatusPageIT skipped: no chromium on PATH "
                    + "(install Debian's chromium package, as .ci/run does)");
        }
        Assumptions.assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium; see .ci/run)");
    }

    @Test
    void showsEveryWorkerThenTheDrainCountdownAfterSigterm() throws Exception {
        String config = """
                shieldpool.pool.size = 12
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 1500ms
                shieldpool.work.demo.log-steps = false
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon);
             HeadlessChromium browser = new HeadlessChromium(chromium, dir.resolve("profile"), 1280, 900)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            browser.navigate("http://127.0.0.1:" + admin.port() + "/");
            browser.await("document.querySelectorAll('#grid .cell').length === 12", Duration.ofSeconds(20));
            browser.await("document.getElementById('state').textContent === 'running'", Duration.ofSeconds(10));
            assertThat(browser.evaluate("document.getElementById('t-workers').textContent")).isEqualTo("12");
            assertThat(browser.evaluate("document.getElementById('drain').hidden")).isEqualTo(true);
            assertThat(browser.evaluate("document.getElementById('cluster').hidden")).as("no cluster without a shared store")
                    .isEqualTo(true);
            // A few polls in, so the sparkline has points and the cells show step progress.
            browser.await("document.querySelector('#spark polyline').getAttribute('points').split(' ').length >= 3",
                    Duration.ofSeconds(20));
            browser.await("document.querySelectorAll('#grid .cell.busy').length === 12", Duration.ofSeconds(10));
            browser.screenshot(ARTIFACTS.resolve("running-12-workers.png"));

            // Early in a section, so the drain lasts seconds: long enough to watch it.
            awaitSectionsJustBegun(admin);
            daemon.signal("TERM");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            browser.await("!document.getElementById('drain').hidden && "
                    + "document.getElementById('state').textContent === 'draining'", Duration.ofSeconds(10));
            String left = (String) browser.evaluate("document.getElementById('drain-left').textContent");
            assertThat(Integer.parseInt(left)).as("sections left").isBetween(1, 12);
            // The countdown runs: grace left is below 30 s and goes down between two looks.
            double graceBefore = seconds(browser.evaluate("document.getElementById('drain-grace').textContent"));
            Thread.sleep(400);
            double graceAfter = seconds(browser.evaluate("document.getElementById('drain-grace').textContent"));
            // why at most 30: a first look within 50 ms of the drain's start shows 29.95 s rounded to "30.0"
            assertThat(graceBefore).isLessThanOrEqualTo(30).isGreaterThan(20);
            assertThat(graceAfter).isLessThan(graceBefore);
            assertThat((String) browser.evaluate("document.getElementById('drain-title').textContent"))
                    .startsWith("Draining after SIGTERM");
            browser.screenshot(ARTIFACTS.resolve("draining.png"));
            assertThat(browser.problems(p -> !p.contains("ERR_CONNECTION_REFUSED")))
                    .as("console errors while the daemon ran").isEmpty();

            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            // Once the daemon has gone, the page says so, and stays at the last values it saw: the
            // countdown no longer runs.
            browser.await("document.getElementById('state').textContent === 'exited'", Duration.ofSeconds(15));
            assertThat(browser.evaluate("document.getElementById('gone').hidden")).isEqualTo(false);
            String banner = (String) browser.evaluate("document.getElementById('gone').textContent");
            assertThat(banner).contains("exited").contains("Last seen at");
            String frozenGrace = (String) browser.evaluate("document.getElementById('drain-grace').textContent");
            String frozenLeft = (String) browser.evaluate("document.getElementById('drain-left').textContent");
            Thread.sleep(1500);
            assertThat(browser.evaluate("document.getElementById('drain-grace').textContent")).isEqualTo(frozenGrace);
            assertThat(browser.evaluate("document.getElementById('drain-left').textContent")).isEqualTo(frozenLeft);
            browser.screenshot(ARTIFACTS.resolve("exited.png"));
            assertThat(browser.problems(p -> !p.contains("ERR_CONNECTION_REFUSED")))
                    .as("console errors other than the refused polls after the exit").isEmpty();
        }
    }

    @Test
    void aLargePoolStaysReadable() throws Exception {
        String config = """
                shieldpool.pool.size = 1200
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 1s
                shieldpool.work.demo.log-steps = false
                shieldpool.shutdown.grace = 10s
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon);
             HeadlessChromium browser = new HeadlessChromium(chromium, dir.resolve("profile"), 1280, 900)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            browser.navigate("http://127.0.0.1:" + admin.port() + "/");
            browser.await("document.querySelectorAll('#grid .cell').length === 1000", Duration.ofSeconds(20));
            browser.await("document.getElementById('workers-note').textContent.includes('1,000 of 1,200 shown')",
                    Duration.ofSeconds(10));
            // The census bar counts all 1200, not only the 1000 drawn.
            browser.await("document.getElementById('legend').textContent.includes('busy 1,200')", Duration.ofSeconds(10));
            browser.await("document.querySelector('#spark polyline').getAttribute('points').split(' ').length >= 3",
                    Duration.ofSeconds(20));
            // Small cells: 1000 workers fit in a few hundred pixels, the page stays one screen high.
            double gridHeight = ((Number) browser.evaluate(
                    "document.getElementById('grid').getBoundingClientRect().height")).doubleValue();
            double pageHeight = ((Number) browser.evaluate("document.documentElement.scrollHeight")).doubleValue();
            assertThat(gridHeight).isBetween(100.0, 400.0);
            assertThat(pageHeight).isLessThanOrEqualTo(900.0);
            browser.screenshot(ARTIFACTS.resolve("running-1200-workers.png"));
            assertThat(browser.problems()).as("console errors").isEmpty();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }

    @Test
    void aSmallPoolFillsTheScreenAndTheRateIsRightFromTheFirstSecond() throws Exception {
        String config = """
                shieldpool.pool.size = 40
                shieldpool.work.demo.steps = 3
                shieldpool.work.demo.step-duration = 1s
                shieldpool.work.demo.log-steps = false
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon);
             HeadlessChromium browser = new HeadlessChromium(chromium, dir.resolve("profile"), 1280, 900)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Sections have ended before the page opens: its first figure must not be 0.0.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (admin.json("/status?workers=0").getJsonObject("totals").getLong("completed") < 40) {
                assertThat(System.nanoTime()).as("40 sections completed").isLessThan(deadline);
                Thread.sleep(100);
            }
            browser.navigate("http://127.0.0.1:" + admin.port() + "/");
            browser.await("document.getElementById('t-rate').textContent !== '–'", Duration.ofSeconds(10));
            double firstRate = Double.parseDouble((String) browser.evaluate("document.getElementById('t-rate').textContent"));
            assertThat(firstRate).as("the first rate shown (40 workers, 3 s sections: ~13/s)").isGreaterThan(1.0);
            assertThat((String) browser.evaluate("document.getElementById('t-rate-basis').textContent"))
                    .contains("average since start");
            // ... and each of the next 4 s, while the page's own window fills.
            for (int i = 0; i < 4; i++) {
                Thread.sleep(1000);
                assertThat((String) browser.evaluate("document.getElementById('t-rate').textContent"))
                        .as("rate after " + (i + 1) + " s").isNotEqualTo("0.0");
            }
            browser.await("document.querySelectorAll('#grid .cell.busy').length === 40", Duration.ofSeconds(10));
            // The cells use the screen: the grid reaches into the bottom quarter, and the page still
            // fits in it without scrolling.
            double gridBottom = ((Number) browser.evaluate(
                    "document.getElementById('grid').getBoundingClientRect().bottom")).doubleValue();
            double pageHeight = ((Number) browser.evaluate("document.documentElement.scrollHeight")).doubleValue();
            assertThat(gridBottom).as("bottom of the worker grid").isGreaterThan(900 * 0.75);
            assertThat(pageHeight).as("page height").isLessThanOrEqualTo(900.0);
            assertThat((String) browser.evaluate("document.querySelector('#grid .cell.busy .more').textContent"))
                    .startsWith("section ");
            browser.screenshot(ARTIFACTS.resolve("running-40-workers.png"));
            assertThat(browser.problems()).as("console errors").isEmpty();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }

    @Test
    void countsOfManyDigitsStayInsideTheirCards() throws Exception {
        // Bare-yield sections: millions of them within seconds.
        String config = """
                shieldpool.pool.size = 8
                shieldpool.work.demo.steps = 1
                shieldpool.work.demo.step-duration = 0
                shieldpool.work.demo.log-steps = false
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon);
             HeadlessChromium browser = new HeadlessChromium(chromium, dir.resolve("profile"), 1280, 900)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            browser.navigate("http://127.0.0.1:" + admin.port() + "/");
            // 7 digits and more: "1,234,567"
            browser.await("(document.getElementById('t-completed')?.textContent || '').length >= 9", Duration.ofSeconds(60));
            browser.await("document.getElementById('t-rate').textContent.length >= 9", Duration.ofSeconds(20));
            String overflowing = """
                    [...document.querySelectorAll('.tile')].filter(t => {
                      const v = t.querySelector('.value'), tr = t.getBoundingClientRect(), vr = v.getBoundingClientRect();
                      return v.scrollWidth > v.clientWidth || vr.right > tr.right || vr.left < tr.left;
                    }).map(t => t.querySelector('.label').textContent + ' ' + t.querySelector('.value').textContent).join('; ')""";
            for (int i = 0; i < 3; i++) {
                assertThat(browser.evaluate(overflowing)).as("cards whose count spills out").isEqualTo("");
                Thread.sleep(700);
            }
            browser.screenshot(ARTIFACTS.resolve("large-counts.png"));
            assertThat(browser.problems()).as("console errors").isEmpty();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }

    /**
     * The page's other ending, which a real daemon shows too briefly to catch (it exits within
     * milliseconds of its drain completing): the last /status seen says "stopped", drain complete.
     * The page itself is the daemon's; a JDK HTTP server stands in for the daemon and then goes away.
     */
    @Test
    void aDrainSeenCompleteIsReportedAsDrainedWhenTheDaemonIsGone() throws Exception {
        byte[] page;
        try (var in = StatusPageIT.class.getResourceAsStream("/io/shieldpool/admin/status.html")) {
            page = in.readAllBytes();
        }
        java.util.concurrent.atomic.AtomicReference<String> state = new java.util.concurrent.atomic.AtomicReference<>("draining");
        var server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            boolean status = exchange.getRequestURI().getPath().equals("/status");
            byte[] body = status ? stoppingStatus(state.get()).getBytes(java.nio.charset.StandardCharsets.UTF_8) : page;
            exchange.getResponseHeaders().set("Content-Type", status ? "application/json" : "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try (HeadlessChromium browser = new HeadlessChromium(chromium, dir.resolve("profile"), 1280, 900)) {
            browser.navigate("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            browser.await("document.getElementById('state').textContent === 'draining'", Duration.ofSeconds(10));
            state.set("stopped");
            browser.await("document.getElementById('state').textContent === 'stopped'", Duration.ofSeconds(10));
            server.stop(0);
            browser.await("document.getElementById('state').textContent === 'exited'", Duration.ofSeconds(15));
            assertThat((String) browser.evaluate("document.getElementById('gone-title').textContent"))
                    .isEqualTo("The daemon drained and exited.");
            assertThat((String) browser.evaluate("document.getElementById('gone-detail').textContent"))
                    .contains("every section in flight had ended (12 completed, 0 failed, 0 abandoned)");
            assertThat(browser.evaluate("document.getElementById('gone').classList.contains('clean')")).isEqualTo(true);
            browser.screenshot(ARTIFACTS.resolve("drained-and-exited.png"));
        } finally {
            server.stop(0);
        }
    }

    /** A /status document of a 3-worker demo pool draining (one section left) or stopped (none). */
    private static String stoppingStatus(String state) {
        boolean stopped = state.equals("stopped");
        return """
                {"state":"%s","version":"0.1.0","pid":4242,"uptime_ms":65000,"config_version":1,"work":"demo",
                 "pool":{"desired":3,"actual":%d,"busy":%d},
                 "totals":{"started":12,"completed":%d,"failed":0,"timed_out":0,"abandoned":0,"in_flight":%d},
                 "worker_restarts":0,
                 "workers_by_state":{"idle":0,"busy":%d,"backoff":0,"retiring":0,"abandoned":0,"stopped":0},
                 "busy_at_step":[0,0,%d],
                 "drain":{"signal":"SIGTERM","sections_left":%d,"grace_left_ms":28000,"elapsed_ms":2000},
                 "workers_listed":0,"workers":[]}
                """.formatted(state, stopped ? 0 : 1, stopped ? 0 : 1, stopped ? 12 : 11, stopped ? 0 : 1,
                stopped ? 0 : 1, stopped ? 0 : 1, stopped ? 0 : 1);
    }

    /** Waits until every busy worker is on the first step of its section. */
    private static void awaitSectionsJustBegun(AdminClient admin) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            var status = admin.json("/status?workers=0");
            var busyAtStep = status.getJsonArray("busy_at_step");
            if (busyAtStep.getLong(0) > 0 && busyAtStep.getLong(0) == status.getJsonObject("pool").getLong("busy")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("sections never seen at their first step");
    }

    private static double seconds(Object text) {
        String s = String.valueOf(text);
        return Double.parseDouble(s.substring(0, s.indexOf(' ')));
    }
}
