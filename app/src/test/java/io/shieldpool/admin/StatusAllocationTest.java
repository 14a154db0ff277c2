package io.shieldpool.admin;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.EffectiveConfig;
import io.shieldpool.control.Supervisor;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.kinds.demo.DemoSettings;
import io.shieldpool.kinds.demo.DemoWork;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, section 2: what one {@code /status?workers=1000} costs the daemon in allocation, measured
 * with {@code ThreadMXBean.getThreadAllocatedBytes} over the threads that serve it (Vert.x's event
 * loops: the admin server's, the supervisor's and the shards'), minus what the pool itself
 * allocates over the same time. Real supervisor, real admin server, real HTTP client (whose own
 * threads are not counted).
 */
@Timeout(120)
class StatusAllocationTest {

    private static final int WORKERS = 1000;
    private static final int REQUESTS = 300;

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4));
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicReference<Consumer<String>> signals = new AtomicReference<>();

    @AfterEach
    void close() throws Exception {
        http.close();
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void aStatusOfAThousandWorkersAllocatesLittleMoreThanItsOwnBytes() throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", Integer.toString(WORKERS));
        props.setProperty("shieldpool.pool.event-loops", "2");
        props.setProperty("shieldpool.work.demo.step-duration", "50ms");
        props.setProperty("shieldpool.work.demo.log-steps", "false");
        props.setProperty("shieldpool.admin.port", "0");
        EffectiveConfig effective = new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props, WorkKinds.discover())
                .loadEffective(Optional.empty());
        Supervisor supervisor = new Supervisor(effective, () -> effective,
                c -> new DemoWork(c.work().settings(DemoSettings.class).orElseThrow()), signals::set);
        AdminServer admin = new AdminServer(effective.config().admin(), supervisor.view(), "test");
        vertx.deployVerticle(admin).await(10, TimeUnit.SECONDS);
        vertx.deployVerticle(supervisor).await(10, TimeUnit.SECONDS);
        URI status = URI.create("http://127.0.0.1:" + admin.actualPort() + "/status?workers=" + WORKERS);

        int bodyBytes = 0;
        for (int i = 0; i < 200; i++) { // warm-up: JIT, buffers, the connection
            bodyBytes = get(status).length();
        }
        assertThat(new JsonObject(get(status)).getJsonArray("workers")).hasSize(WORKERS);

        long idleStart = System.nanoTime();
        long before = eventLoopAllocatedBytes();
        Thread.sleep(1000);
        long idleBytesPerNano = (eventLoopAllocatedBytes() - before) / Math.max(1, System.nanoTime() - idleStart);

        long start = System.nanoTime();
        before = eventLoopAllocatedBytes();
        for (int i = 0; i < REQUESTS; i++) {
            get(status);
        }
        long elapsed = System.nanoTime() - start;
        long allocated = eventLoopAllocatedBytes() - before - idleBytesPerNano * elapsed;
        long perRequest = allocated / REQUESTS;
        System.out.printf("StatusAllocationTest: /status?workers=%d (%d bytes of JSON): %d bytes allocated per "
                        + "request by the daemon's event loops (%.1f x the body), %.2f ms per request%n", WORKERS,
                bodyBytes, perRequest, (double) perRequest / bodyBytes, elapsed / 1e6 / REQUESTS);
        // The document itself must be built without a tree of maps per worker: a few times its size at most.
        assertThat(perRequest).isLessThan(6L * bodyBytes);
    }

    private String get(URI uri) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private static long eventLoopAllocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("vert.x-eventloop")) {
                total += threads.getThreadAllocatedBytes(thread.threadId());
            }
        }
        return total;
    }
}
