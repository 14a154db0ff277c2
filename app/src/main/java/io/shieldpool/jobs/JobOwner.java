package io.shieldpool.jobs;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Who holds running jobs: one run of one daemon. Stored with each claim as
 * {@code host/pid/run}, where run is random per start, so a restarted daemon that happens to get
 * the same pid is still another owner.
 *
 * @param host the machine's name
 * @param pid  the process id
 * @param run  random, per start
 */
public record JobOwner(String host, long pid, String run) {

    public JobOwner {
        Objects.requireNonNull(host);
        Objects.requireNonNull(run);
    }

    /** This process, with a fresh run id. */
    public static JobOwner thisProcess() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        byte[] run = new byte[4];
        new SecureRandom().nextBytes(run);
        return new JobOwner(host.replace('/', '_'), ProcessHandle.current().pid(), HexFormat.of().formatHex(run));
    }

    /** The owner column's value. */
    public String id() {
        return host + "/" + pid + "/" + run;
    }

    /** The pid in an owner column's value, or -1 when it has none. */
    public static long pidOf(String ownerId) {
        String[] parts = ownerId.split("/");
        try {
            return parts.length == 3 ? Long.parseLong(parts[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
