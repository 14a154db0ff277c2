package io.shieldpool.realsystemd;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The container's journal as {@code journalctl -o json} gives it, from a cursor on. */
final class Journal {

    private static final Pattern CURSOR = Pattern.compile("-- cursor: (\\S+)");

    /** One entry: the fields the tests look at. */
    record Entry(String message, int priority, String unit, String sender, long pid, long monotonicUsec, long seqnum,
                 String messageId, String invocationId) {

        /** The daemon's own lines (its stdout and stderr, and ExecReload='s). */
        boolean fromService() {
            return "shieldpool.service".equals(unit) && !sender.equals("systemd");
        }

        /** systemd's (PID 1's) lines about the unit. */
        boolean fromSystemd() {
            return "systemd".equals(sender) && pid == 1;
        }
    }

    private final SystemdContainer container;

    Journal(SystemdContainer container) {
        this.container = container;
    }

    /** Where the journal ends now: read {@link #since} it later. */
    String cursor() {
        container.sh("journalctl --sync").ok();
        Matcher m = CURSOR.matcher(container.sh("journalctl -n 0 --show-cursor --no-pager").out());
        return m.find() ? m.group(1) : "";
    }

    /** Every entry after {@code cursor} (all of this boot when empty), in journal order. */
    List<Entry> since(String cursor) {
        container.sh("journalctl --sync").ok();
        String after = cursor.isEmpty() ? "-b" : "'--after-cursor=" + cursor + "'";
        Exec out = container.sh("journalctl --no-pager -o json " + after, Duration.ofSeconds(60)).ok();
        return out.out().lines().filter(l -> l.startsWith("{")).map(Journal::entry).toList();
    }

    /** The daemon's lines after {@code cursor}. */
    List<Entry> service(String cursor) {
        return since(cursor).stream().filter(Entry::fromService).toList();
    }

    private static Entry entry(String line) {
        JsonObject j = new JsonObject(line);
        String unit = text(j, "_SYSTEMD_UNIT");
        String objectUnit = text(j, "UNIT");
        String sender = text(j, "SYSLOG_IDENTIFIER");
        long pid = Long.parseLong(orZero(text(j, "_PID")));
        // PID 1 names the unit it speaks about in UNIT=; a service's own lines carry _SYSTEMD_UNIT.
        String about = pid == 1 && !objectUnit.isEmpty() ? objectUnit : unit;
        return new Entry(text(j, "MESSAGE"), Integer.parseInt(orZero(text(j, "PRIORITY"))), about, sender, pid,
                Long.parseLong(orZero(text(j, "__MONOTONIC_TIMESTAMP"))), Long.parseLong(orZero(text(j, "__SEQNUM"))),
                text(j, "MESSAGE_ID"), text(j, pid == 1 ? "INVOCATION_ID" : "_SYSTEMD_INVOCATION_ID"));
    }

    private static String orZero(String s) {
        return s.isEmpty() ? "0" : s;
    }

    private static String text(JsonObject j, String field) {
        Object value = j.getValue(field);
        if (value == null) {
            return "";
        }
        if (value instanceof JsonArray bytes) {
            // journald writes a non-UTF-8 or binary field as an array of byte values
            byte[] raw = new byte[bytes.size()];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = (byte) bytes.getInteger(i).intValue();
            }
            return new String(raw, StandardCharsets.UTF_8);
        }
        return value.toString();
    }
}
