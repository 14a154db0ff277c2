package io.shieldpool.cli.docs;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * shieldpool.conf(5), written from the comments and defaults of reference.conf, the file the daemon
 * itself takes its defaults from: a key added there is documented here by the same build, and a
 * key cannot be documented that the daemon does not read.
 */
final class ConfigManPage {

    private ConfigManPage() {
    }

    /** A key of reference.conf: its dotted path, its default as HOCON, and the comment above it. */
    record Key(String path, String defaultValue, List<String> comment) {
    }

    /** A group of keys (an object with keys of its own, e.g. shieldpool.work.exec) and its comment. */
    record Group(String path, List<String> comment, List<Key> keys) {
    }

    /** reference.conf as groups, in file order; an empty object ({@code environment {}}) is a key. */
    static List<Group> groups() {
        ConfigObject root = ConfigFactory.parseResources("reference.conf").root();
        List<Group> groups = new ArrayList<>();
        walk("shieldpool", (ConfigObject) root.get("shieldpool"), groups);
        return groups;
    }

    static List<Key> keys() {
        return groups().stream().flatMap(g -> g.keys().stream()).toList();
    }

    private static void walk(String path, ConfigObject object, List<Group> groups) {
        Group group = new Group(path, comment(object), new ArrayList<>());
        groups.add(group);
        List<Map.Entry<String, ConfigValue>> children = new ArrayList<>(object.entrySet());
        children.sort(Comparator.comparingInt(e -> e.getValue().origin().lineNumber()));
        for (Map.Entry<String, ConfigValue> child : children) {
            String childPath = path + "." + child.getKey();
            ConfigValue value = child.getValue();
            if (value.valueType() == ConfigValueType.OBJECT && !((ConfigObject) value).isEmpty()) {
                walk(childPath, (ConfigObject) value, groups);
            } else {
                group.keys().add(new Key(childPath, render(value), comment(value)));
            }
        }
        if (group.keys().isEmpty()) {
            // why: only objects of objects (shieldpool, shieldpool.worker); the file header's
            // comment is said better in DESCRIPTION.
            groups.remove(group);
        }
    }

    /** A default as one would write it in the file: 1s and demo bare, "" and "127.0.0.1" quoted. */
    private static String render(ConfigValue value) {
        if (value.valueType() == ConfigValueType.STRING && ((String) value.unwrapped()).matches("[A-Za-z0-9]+")) {
            return (String) value.unwrapped();
        }
        return value.render(ConfigRenderOptions.concise());
    }

    private static List<String> comment(ConfigValue value) {
        @SuppressWarnings("deprecation") // why: comments() is the only way to the text; still supported in 1.4
        List<String> lines = value.origin().comments();
        return lines.stream().map(String::strip).toList();
    }

    static String render(String version, String date) {
        Troff man = new Troff();
        man.raw(".\\\" Generated at build time from reference.conf (io.shieldpool.cli.docs); do not edit.");
        man.request("TH", "SHIELDPOOL.CONF", "5", date, "shieldpool " + version, "File Formats");
        man.request("SH", "NAME");
        man.raw("shieldpool.conf \\- configuration of the shieldpool daemon");
        man.request("SH", "SYNOPSIS");
        man.raw(Troff.italic("/etc/shieldpool/shieldpool.conf"));
        man.request("SH", "DESCRIPTION");
        man.text("The file is HOCON (a superset of JSON): key = value lines, dotted keys or nested braces, "
                + "# comments. It is read at start-up and on reload (SIGHUP, systemctl reload shieldpool); check "
                + "an edit first with shieldpool check-config FILE. An unknown key under shieldpool, a wrong type "
                + "or a value out of range stops start-up with exit code 78 and one line per problem naming the "
                + "key, the value, what was expected and the file and line.");
        man.text("");
        man.text("Sources, lowest precedence first: the defaults below (the daemon's built-in reference.conf), "
                + "the config file, environment variables CONFIG_FORCE_shieldpool_pool_size=8 (\"_\" stands for "
                + "\".\", \"__\" for \"-\"), and -Dshieldpool.pool.size=8 system properties (in SHIELDPOOL_JAVA_OPTS).");
        man.text("");
        man.text("Durations are written with a unit: 200ms, 1s, 5m, 2h (ns, us, ms, s, m, h, d). Keys marked "
                + "restart-only keep their running value on a reload.");
        man.request("SH", "KEYS");
        man.text("Each key with its default.");
        for (Group group : groups()) {
            man.request("SS", group.path());
            group.comment().forEach(man::text);
            for (Key key : group.keys()) {
                man.item(Troff.bold(key.path()) + " = " + Troff.escape(key.defaultValue()), key.comment());
            }
        }
        man.request("SH", "EXAMPLE");
        man.raw(".nf");
        man.text("shieldpool.pool.size = 8");
        man.text("shieldpool.shutdown.grace = 60s");
        man.text("shieldpool.work {");
        man.text("  type = exec");
        man.text("  exec.command = [\"/usr/local/bin/sync-batch.sh\", \"--limit\", \"100\"]");
        man.text("}");
        man.raw(".fi");
        man.request("SH", "FILES");
        man.item(Troff.italic("/etc/shieldpool/shieldpool.conf"), List.of("The packaged service's file: every key, "
                + "commented out with its default. Readable by root and the shieldpool group only, as it may hold "
                + "the admin token."));
        man.request("SH", "SEE ALSO");
        man.raw("\\fBshieldpool\\fR(1), \\fBsystemd.service\\fR(5)");
        return man.page();
    }
}
