package io.shieldpool.e2e;

import io.shieldpool.logging.JsonLineEncoder;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The guarantees every shutdown must keep, checked from the daemon's JSON events. */
final class DrainInvariants {

    private DrainInvariants() {
    }

    /**
     * Nothing torn, nothing started after the gate closed, counts conserved, Vert.x closed last.
     *
     * @param expectAbandoned whether the grace cap (or a forced exit) may have cut sections
     */
    static JsonObject check(DaemonProcess daemon, boolean expectAbandoned) {
        List<JsonObject> events = daemon.events();
        String transcript = daemon.transcript();
        Map<Long, JsonObject> open = new HashMap<>();
        Set<Long> seenSections = new HashSet<>();
        boolean gateClosed = false;
        boolean complete = false;
        int started = 0;
        int abandoned = 0;
        long inFlightAtClose = 0;
        Set<Integer> closedShards = new HashSet<>();
        for (JsonObject e : events) {
            String event = e.getString("event");
            if (event == null || event.equals(JsonLineEncoder.LIBRARY_EVENT)) {
                continue; // the invariants are about shieldpool's own lines
            }
            assertThat(complete && !event.startsWith("vertx.") && !event.equals("signal.ignored"))
                    .as("event %s after shutdown.complete\n%s", event, transcript).isFalse();
            switch (event) {
                case "section.start" -> {
                    assertThat(gateClosed).as("section.start after shutdown.begin: %s\n%s", e, transcript).isFalse();
                    assertThat(closedShards).as("section.start on a shard whose gate is closed: %s", e)
                            .doesNotContain(e.getInteger("shard"));
                    long id = e.getLong("section");
                    assertThat(seenSections.add(id)).as("section id %d reused", id).isTrue();
                    open.put(id, e);
                    started++;
                }
                case "section.end" -> assertThat(open.remove(e.getLong("section")))
                        .as("section.end without a start: %s", e).isNotNull();
                case "section.abandoned" -> {
                    assertThat(open.remove(e.getLong("section")))
                            .as("abandoned section not in flight (or reported twice): %s", e).isNotNull();
                    abandoned++;
                }
                case "gate.closed" -> {
                    // Each shard closes its gate on its own thread: what is open there then is in flight.
                    int shard = e.getInteger("shard");
                    long openOnShard = open.values().stream().filter(s -> s.getInteger("shard") == shard).count();
                    assertThat(e.getLong("in_flight")).as("in_flight when shard %d closed its gate\n%s", shard, transcript)
                            .isEqualTo(openOnShard);
                    inFlightAtClose += openOnShard;
                    closedShards.add(shard);
                }
                case "shutdown.begin" -> {
                    assertThat(e.getLong("in_flight")).as("in_flight at shutdown.begin = sum over the shards' gates")
                            .isEqualTo(inFlightAtClose);
                    gateClosed = true;
                }
                case "shutdown.complete" -> complete = true;
                case "vertx.closing" -> assertThat(open).as("Vert.x closing with sections in flight").isEmpty();
                default -> {
                }
            }
        }
        assertThat(complete).as("no shutdown.complete\n%s", transcript).isTrue();
        assertThat(open).as("sections torn: started, never ended nor reported abandoned\n%s", transcript).isEmpty();
        List<JsonObject> completes = daemon.events("shutdown.complete");
        assertThat(completes).hasSize(1);
        JsonObject summary = completes.getFirst();
        Map<String, Integer> outcomes = DaemonProcess.outcomes(events);
        assertThat(summary.getLong("started")).as("started").isEqualTo((long) started);
        assertThat(summary.getLong("completed")).as("completed").isEqualTo(outcomes.getOrDefault("completed", 0).longValue());
        assertThat(summary.getLong("failed")).as("failed").isEqualTo(outcomes.getOrDefault("failed", 0).longValue());
        assertThat(summary.getLong("timed_out")).as("timed_out")
                .isEqualTo(outcomes.getOrDefault("timed_out", 0).longValue());
        assertThat(summary.getLong("abandoned")).as("abandoned").isEqualTo((long) abandoned);
        assertThat(summary.getLong("completed") + summary.getLong("failed") + summary.getLong("timed_out")
                + summary.getLong("abandoned"))
                .as("conservation: started = completed + failed + timed_out + abandoned").isEqualTo((long) started);
        if (!expectAbandoned) {
            assertThat(abandoned).as("abandoned sections in a clean drain\n%s", transcript).isZero();
        }
        assertThat(daemon.events("vertx.closing")).as("Vert.x closed exactly once, after the pool").hasSize(1);
        return summary;
    }
}
