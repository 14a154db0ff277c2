package io.shieldpool.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintWriter;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/**
 * The cluster part of {@code shieldpool status} (a shared job store's {@code jobs.cluster}): one
 * line counting the nodes by state, one for the queue's global limits and their use, and a table
 * of the nodes (HELD: the jobs a node holds, its running sections and the jobs it claimed and has
 * not started yet, as of its last heartbeat; for a dead node its running rows now, 0 once they were
 * rescued: statement {@code nodes}). Nodes stopped long ago are counted, not listed, so
 * a cluster that has restarted often still fits a screen.
 */
final class ClusterLines {

    /** A node stopped longer ago than this is only counted. */
    static final long LIST_STOPPED_FOR_MS = 10 * 60_000;

    private ClusterLines() {
    }

    static void print(JsonObject cluster, PrintWriter out) {
        JsonArray nodes = cluster.getJsonArray("nodes", new JsonArray());
        JsonObject byState = cluster.getJsonObject("nodes_by_state", new JsonObject());
        StringBuilder states = new StringBuilder();
        for (String state : byState.fieldNames()) {
            int n = byState.getInteger(state);
            if (n > 0 || state.equals("running")) {
                states.append(states.isEmpty() ? "" : ", ").append(n).append(' ').append(state);
            }
        }
        out.printf("cluster    %d node(s): %s%n", nodes.size(), states);
        JsonObject limits = cluster.getJsonObject("limits");
        if (limits != null) {
            out.printf("limits     %s%n", limits(limits));
        }
        int hostWidth = 4;
        int listed = 0;
        for (int i = 0; i < nodes.size(); i++) {
            JsonObject n = nodes.getJsonObject(i);
            if (listed(n)) {
                hostWidth = Math.max(hostWidth, Math.min(40, n.getString("host").length()));
                listed++;
            }
        }
        if (listed > 0) {
            out.println();
            out.printf("  %-" + hostWidth + "s %8s  %-8s %10s %9s %8s%n", "HOST", "PID", "STATE", "HEARTBEAT", "HELD", "UP");
            for (int i = 0; i < nodes.size(); i++) {
                JsonObject n = nodes.getJsonObject(i);
                if (!listed(n)) {
                    continue;
                }
                String host = n.getString("host");
                if (host.length() > hostWidth) {
                    host = host.substring(0, hostWidth - 1) + "~";
                }
                boolean stopped = n.getString("state").equals("stopped");
                out.printf("  %-" + hostWidth + "s %8d  %-8s %10s %9s %8s%s%n", host, n.getLong("pid"), n.getString("state"),
                        stopped ? "-" : age(n.getLong("heartbeat_age_ms")), stopped ? "-" : n.getLong("in_flight").toString(),
                        stopped ? "-" : StatusCommand.Durations.human(n.getLong("up_ms", 0L)),
                        n.getBoolean("this_daemon", false) ? "  (this daemon)" : "");
            }
        }
        if (listed < nodes.size()) {
            out.printf("  (%d node(s) stopped more than %d min ago not listed)%n", nodes.size() - listed,
                    LIST_STOPPED_FOR_MS / 60_000);
        }
    }

    /** Listed: every node except those stopped long ago. */
    private static boolean listed(JsonObject node) {
        return !node.getString("state").equals("stopped") || node.getLong("heartbeat_age_ms") <= LIST_STOPPED_FOR_MS;
    }

    private static String limits(JsonObject l) {
        StringBuilder text = new StringBuilder();
        int concurrency = l.getInteger("concurrency", 0);
        if (concurrency > 0) {
            text.append("concurrency ").append(concurrency).append(": ").append(l.getLong("running"))
                    .append(l.getBoolean("by_slots", false) ? " slot(s) held by nodes" : " running");
        } else {
            text.append("concurrency unlimited: ").append(l.getLong("running")).append(" running");
        }
        double rate = l.getDouble("rate", 0.0);
        if (rate > 0) {
            text.append("; rate ").append(number(rate)).append("/s, burst ").append(number(l.getDouble("burst", 0.0)))
                    .append(": ").append(number(l.getDouble("tokens", 0.0))).append(" token(s) left");
        }
        return text.toString();
    }

    private static String number(double value) {
        return new DecimalFormat("0.##", DecimalFormatSymbols.getInstance(Locale.ROOT)).format(value);
    }

    /** A heartbeat age: tenths of a second while fresh, minutes and hours for a long-dead node. */
    private static String age(long millis) {
        return millis < 60_000 ? StatusCommand.Durations.seconds(millis) : StatusCommand.Durations.human(millis);
    }
}
