package io.shieldpool.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The cluster lines of {@code shieldpool status} for documents a shared store's daemon would send. */
class ClusterLinesTest {

    private static JsonObject node(String host, long pid, String state, long heartbeatAgeMs, long held, boolean self) {
        return new JsonObject().put("id", host + "/" + pid + "/r").put("host", host).put("pid", pid).put("state", state)
                .put("heartbeat_age_ms", heartbeatAgeMs).put("ttl_ms", 10_000).put("up_ms", 3_723_000L)
                .put("in_flight", held).put("this_daemon", self);
    }

    private static List<String> print(JsonObject cluster) {
        StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text)) {
            ClusterLines.print(cluster, out);
        }
        return text.toString().lines().toList();
    }

    @Test
    void countsTheNodesByStateShowsTheLimitsAndOneAlignedRowPerNode() {
        JsonObject cluster = new JsonObject()
                .put("nodes_by_state", new JsonObject().put("running", 1).put("draining", 1).put("stopped", 0).put("dead", 1))
                .put("nodes", new JsonArray().add(node("web-1", 4242, "running", 412, 3, true))
                        .add(node("web-2", 1234567, "draining", 1_300, 123_456_789, false))
                        .add(node("web-3", 77, "dead", 3_725_000, 2, false)))
                .put("limits", new JsonObject().put("queue", "default").put("concurrency", 6).put("running", 5)
                        .put("rate", 20.0).put("burst", 5.0).put("tokens", 3.25));
        List<String> lines = print(cluster);
        assertThat(lines.get(0)).isEqualTo("cluster    3 node(s): 1 running, 1 draining, 1 dead");
        assertThat(lines.get(1)).isEqualTo("limits     concurrency 6: 5 running; rate 20/s, burst 5: 3.25 token(s) left");
        assertThat(lines.get(3)).isEqualTo("  HOST       PID  STATE     HEARTBEAT      HELD       UP");
        assertThat(lines.get(4)).isEqualTo("  web-1     4242  running       0.4 s         3     1h2m  (this daemon)");
        assertThat(lines.get(5)).isEqualTo("  web-2  1234567  draining      1.3 s 123456789     1h2m");
        assertThat(lines.get(6)).isEqualTo("  web-3       77  dead           1h2m         2     1h2m");
        assertThat(lines).hasSize(7);
    }

    @Test
    void aConcurrencyHeldBySlotsSaysSlotsHeldNotRunning() {
        JsonObject cluster = new JsonObject()
                .put("nodes_by_state", new JsonObject().put("running", 1).put("draining", 0).put("stopped", 0).put("dead", 0))
                .put("nodes", new JsonArray().add(node("web-1", 4242, "running", 412, 3, true)))
                .put("limits", new JsonObject().put("queue", "default").put("concurrency", 40).put("running", 38)
                        .put("by_slots", true).put("rate", 0.0).put("burst", 0.0).put("tokens", 0.0));
        assertThat(print(cluster).get(1)).isEqualTo("limits     concurrency 40: 38 slot(s) held by nodes");
    }

    @Test
    void listsFiftyNodesOneLineEachAndOnlyCountsTheOnesStoppedLongAgo() {
        JsonArray nodes = new JsonArray();
        for (int i = 1; i <= 50; i++) {
            nodes.add(node("worker-" + i + ".a-rather-long-domain-name.example.internal", 1000 + i, "running", 500, i, i == 1));
        }
        nodes.add(node("old-1", 9, "stopped", 3_600_000, 0, false)).add(node("old-2", 10, "stopped", 30_000, 0, false));
        JsonObject cluster = new JsonObject()
                .put("nodes_by_state", new JsonObject().put("running", 50).put("draining", 0).put("stopped", 2).put("dead", 0))
                .put("nodes", nodes);
        List<String> lines = print(cluster);
        assertThat(lines.get(0)).isEqualTo("cluster    52 node(s): 50 running, 2 stopped");
        assertThat(lines).noneMatch(l -> l.startsWith("limits"));
        List<String> rows = lines.stream().filter(l -> l.startsWith("  ") && !l.startsWith("  HOST") && !l.startsWith("  (")).toList();
        assertThat(rows).hasSize(51);
        assertThat(rows).as("one width for all rows, long host names cut to 40").extracting(l -> l.replace("  (this daemon)", "").length())
                .containsOnly(rows.get(1).length());
        assertThat(rows.get(0)).startsWith("  worker-1.a-rather-long-domain-name.exam~ ");
        assertThat(rows).anyMatch(l -> l.matches("  old-2 +10  stopped +- +- +-"));
        assertThat(lines.getLast()).isEqualTo("  (1 node(s) stopped more than 10 min ago not listed)");
    }
}
