package io.shieldpool.admin;

import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerState;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The {@code /status} document: the pool's state, totals, drain progress and workers, in
 * snake_case JSON. The README documents every field; {@code shieldpool status} and the status page
 * read it.
 */
final class StatusJson {

    private StatusJson() {
    }

    static JsonObject render(PoolStatus status, String version, long uptimeMs) {
        ShardSnapshot totals = status.totals();
        JsonObject out = new JsonObject()
                .put("state", status.state().label())
                .put("version", version)
                .put("pid", ProcessHandle.current().pid())
                .put("uptime_ms", uptimeMs)
                .put("config_version", status.configVersion())
                .put("work", status.workType())
                .put("pool", new JsonObject()
                        .put("desired", status.desiredSize())
                        .put("actual", totals.workers())
                        .put("busy", totals.busy()))
                .put("totals", new JsonObject()
                        .put("started", totals.started())
                        .put("completed", totals.completed())
                        .put("failed", totals.failed())
                        .put("timed_out", totals.timedOut())
                        .put("abandoned", totals.abandoned())
                        .put("in_flight", totals.inFlight()))
                .put("worker_restarts", status.workerRestarts());
        JsonObject byState = new JsonObject();
        for (WorkerState state : WorkerState.values()) {
            byState.put(state.label(), status.census().count(state));
        }
        out.put("workers_by_state", byState);
        JsonArray busyAtStep = new JsonArray();
        for (long n : status.census().busyAtStep()) {
            busyAtStep.add(n);
        }
        out.put("busy_at_step", busyAtStep);
        out.put("drain", status.drain().map(d -> new JsonObject()
                .put("signal", d.signal())
                .put("sections_left", d.sectionsLeft())
                .put("elapsed_ms", d.elapsedMs())
                .put("grace_left_ms", d.graceLeftMs())).orElse(null));
        JsonArray workers = new JsonArray();
        for (WorkerStatus w : status.workers()) {
            workers.add(new JsonObject()
                    .put("id", w.id())
                    .put("state", w.state().label())
                    .put("section", w.section() == 0 ? null : w.section())
                    .put("steps_done", w.stepsDone())
                    .put("steps_total", w.stepsTotal() == 0 ? null : w.stepsTotal())
                    .put("elapsed_ms", w.elapsedMs())
                    .put("since_progress_ms", w.sinceProgressMs()));
        }
        out.put("workers_listed", workers.size());
        out.put("workers", workers);
        return out;
    }
}
