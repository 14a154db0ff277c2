package io.shieldpool.admin;

import io.shieldpool.view.PoolStatus;
import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerState;
import io.shieldpool.view.WorkerStatus;
import io.vertx.core.buffer.Buffer;

/**
 * The {@code /status} document: the pool's state, totals, drain progress and workers, in
 * snake_case JSON. The README documents every field; {@code shieldpool status} and the status page
 * read it. Written straight into bytes ({@link JsonBytes}): what a request allocates is about the
 * size of its answer.
 */
final class StatusJson {

    /** Bytes of one listed worker, about: the first guess of the answer's size. */
    private static final int BYTES_PER_WORKER = 128;

    private StatusJson() {
    }

    /**
     * The document, ending with a newline.
     *
     * @param jobs the job store's figures ({@code "jobs"}, last), or null without a store
     */
    static Buffer render(PoolStatus status, String version, long uptimeMs, io.vertx.core.json.JsonObject jobs) {
        ShardSnapshot totals = status.totals();
        JsonBytes out = new JsonBytes(1024 + BYTES_PER_WORKER * status.workers().size());
        out.raw("{\"state\":").string(status.state().label())
                .raw(",\"version\":").string(version)
                .raw(",\"pid\":").number(ProcessHandle.current().pid())
                .raw(",\"uptime_ms\":").number(uptimeMs)
                .raw(",\"config_version\":").number(status.configVersion())
                .raw(",\"work\":").string(status.workType())
                .raw(",\"pool\":{\"desired\":").number(status.desiredSize())
                .raw(",\"actual\":").number(totals.workers())
                .raw(",\"busy\":").number(totals.busy())
                .raw("},\"totals\":{\"started\":").number(totals.started())
                .raw(",\"completed\":").number(totals.completed())
                .raw(",\"failed\":").number(totals.failed())
                .raw(",\"timed_out\":").number(totals.timedOut())
                .raw(",\"abandoned\":").number(totals.abandoned())
                .raw(",\"in_flight\":").number(totals.inFlight())
                .raw("},\"worker_restarts\":").number(status.workerRestarts())
                .raw(",\"workers_by_state\":{");
        String comma = "";
        for (WorkerState state : WorkerState.values()) {
            out.raw(comma).string(state.label()).raw(":").number(status.census().count(state));
            comma = ",";
        }
        out.raw("},\"busy_at_step\":[");
        comma = "";
        for (long n : status.census().busyAtStep()) {
            out.raw(comma).number(n);
            comma = ",";
        }
        out.raw("],\"drain\":");
        if (status.drain().isPresent()) {
            var drain = status.drain().get();
            out.raw("{\"signal\":").string(drain.signal())
                    .raw(",\"sections_left\":").number(drain.sectionsLeft())
                    .raw(",\"elapsed_ms\":").number(drain.elapsedMs())
                    .raw(",\"grace_left_ms\":").number(drain.graceLeftMs())
                    .raw("}");
        } else {
            out.raw("null");
        }
        out.raw(",\"workers_listed\":").number(status.workers().size()).raw(",\"workers\":[");
        comma = "";
        for (WorkerStatus w : status.workers()) {
            out.raw(comma).raw("{\"id\":").number(w.id())
                    .raw(",\"state\":").string(w.state().label())
                    .raw(",\"section\":");
            if (w.section() == 0) {
                out.raw("null");
            } else {
                out.number(w.section());
            }
            out.raw(",\"steps_done\":").number(w.stepsDone()).raw(",\"steps_total\":");
            if (w.stepsTotal() == 0) {
                out.raw("null");
            } else {
                out.number(w.stepsTotal());
            }
            out.raw(",\"elapsed_ms\":").number(w.elapsedMs())
                    .raw(",\"since_progress_ms\":").number(w.sinceProgressMs())
                    .raw("}");
            comma = ",";
        }
        out.raw("]");
        if (jobs != null) {
            out.raw(",\"jobs\":").json(jobs.encode());
        }
        return out.raw("}\n").toBuffer();
    }
}
