package io.shieldpool.e2e;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/prometheus and deploy/grafana against the real daemon: promtool checks and unit-tests the
 * alert rules; every metric the rules and the Grafana dashboard query is one a running daemon's
 * /metrics really has; {@code promtool check metrics} on that scrape finds only the two findings the
 * README explains.
 *
 * <p>Needs promtool (Debian's prometheus package; {@code .ci/run} installs it); without it the test is
 * skipped, visibly.
 */
@Timeout(120)
class DashboardsIT {

    private static final Path DEPLOY = Path.of(System.getProperty("shieldpool.examples", "../deploy/examples"))
            .toAbsolutePath().normalize().getParent();
    private static final Path RULES = DEPLOY.resolve("prometheus/shieldpool-alerts.yml");
    private static final Path RULE_TESTS = DEPLOY.resolve("prometheus/shieldpool-alerts.test.yml");
    private static final Path DASHBOARD = DEPLOY.resolve("grafana/shieldpool-dashboard.json");

    /** What Prometheus itself adds to every target; not the daemon's to export. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");
    private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan");

    /** The findings of promtool check metrics that README ("Metrics") explains; any other fails. */
    private static final Set<String> EXPLAINED_LINT = Set.of(
            "process_cpu_time_ns_total metric names should not contain abbreviated units",
            "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix");

    @TempDir
    Path dir;

    @BeforeAll
    static void needsPromtool() throws Exception {
        boolean present = ToolRun.of(new ProcessBuilder("sh", "-c", "command -v promtool")).exitCode() == 0;
        if (!present) {
            System.err.println("SKIPPED DashboardsIT: promtool is not installed (apt-get install prometheus; .ci/run does)");
        }
        Assumptions.assumeTrue(present, "promtool is not installed");
    }

    @Test
    void promtoolChecksAndUnitTestsTheAlertRules() throws Exception {
        ToolRun check = ToolRun.of(new ProcessBuilder("promtool", "check", "rules", RULES.toString()));
        assertThat(check.exitCode()).as(check.out()).isZero();
        assertThat(check.out()).contains("SUCCESS: 5 rules found");
        ToolRun test = ToolRun.of(new ProcessBuilder("promtool", "test", "rules", RULE_TESTS.getFileName().toString())
                .directory(RULE_TESTS.getParent().toFile()));
        assertThat(test.exitCode()).as(test.out()).isZero();
        String rules = Files.readString(RULES);
        for (String alert : List.of("ShieldpoolDrainStuck", "ShieldpoolSectionsFailing", "ShieldpoolWatchdogStopped",
                "ShieldpoolWorkersBelowDesired")) {
            assertThat(rules).contains("alert: " + alert);
            assertThat(Files.readString(RULE_TESTS)).as("a rule test fires " + alert).contains("alertname: " + alert + "\n");
        }
    }

    @Test
    void rulesAndDashboardQueryOnlyMetricsTheDaemonExportsAndTheLintIsExplained() throws Exception {
        String config = """
                shieldpool.pool.size = 2
                shieldpool.work.demo.steps = 1
                shieldpool.work.demo.step-duration = 50ms
                shieldpool.work.demo.log-steps = false
                shieldpool.work.demo.failure-probability = 0.3
                """;
        String scrape;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config);
             AdminClient admin = AdminClient.of(daemon)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.awaitEvent("section.end", Duration.ofSeconds(20));
            scrape = admin.get("/metrics").body();
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
        }
        Set<String> exported = new TreeSet<>();
        Matcher sample = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").matcher(scrape);
        while (sample.find()) {
            exported.add(sample.group(1));
        }
        assertThat(exported).contains("shieldpool_sections_ended_total", "shieldpool_section_duration_seconds_bucket");

        List<String> queries = new ArrayList<>(dashboardQueries());
        assertThat(queries).hasSizeGreaterThan(10);
        Matcher expr = Pattern.compile("(?m)^\\s+expr: (?:\\|\\n((?:\\s{10}.*\\n)+)|(.*)$)").matcher(Files.readString(RULES));
        int rules = 0;
        while (expr.find()) {
            queries.add(expr.group(1) != null ? expr.group(1) : expr.group(2));
            rules++;
        }
        assertThat(rules).isEqualTo(5);
        Set<String> used = new TreeSet<>();
        for (String query : queries) {
            used.addAll(metricNames(query));
        }
        assertThat(used).contains("shieldpool_state", "shieldpool_pool_size_desired", "jvm_memory_used_bytes");
        used.removeAll(PROMETHEUS_OWN);
        assertThat(used).as("metrics the rules and the dashboard query").isSubsetOf(exported);

        Path file = dir.resolve("metrics.txt");
        Files.writeString(file, scrape);
        ToolRun lint = ToolRun.of(new ProcessBuilder("promtool", "check", "metrics")
                .redirectInput(file.toFile()));
        List<String> findings = lint.out().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        assertThat(findings).as("promtool check metrics").isSubsetOf(EXPLAINED_LINT);
    }

    /** Every PromQL expression in the dashboard: panel targets and the template variables' queries. */
    private static List<String> dashboardQueries() throws Exception {
        JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
        List<String> queries = new ArrayList<>();
        JsonArray panels = dashboard.getJsonArray("panels");
        for (int i = 0; i < panels.size(); i++) {
            JsonArray targets = panels.getJsonObject(i).getJsonArray("targets", new JsonArray());
            for (int t = 0; t < targets.size(); t++) {
                queries.add(targets.getJsonObject(t).getString("expr"));
            }
        }
        JsonArray variables = dashboard.getJsonObject("templating").getJsonArray("list");
        for (int i = 0; i < variables.size(); i++) {
            JsonObject variable = variables.getJsonObject(i);
            if ("query".equals(variable.getString("type"))) {
                queries.add(variable.getString("definition").replaceAll("label_values\\((.*), *\\w+\\)", "$1"));
            }
        }
        return queries;
    }

    /** The metric names a PromQL expression reads: identifiers not inside {}, not functions, not keywords. */
    static Set<String> metricNames(String promql) {
        String s = promql.replaceAll("\"(\\\\.|[^\"])*\"", "\"\"")   // string literals
                .replaceAll("\\{[^}]*}", " ")                       // label matchers
                .replaceAll("\\[[^]]*]", " ")                       // range selectors
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\w+", " ");                         // Grafana variables
        Set<String> names = new TreeSet<>();
        Matcher token = Pattern.compile("\\b([a-zA-Z_:][a-zA-Z0-9_:]*)\\b(\\s*\\()?").matcher(s);
        while (token.find()) {
            String name = token.group(1);
            if (token.group(2) == null && !PROMQL_WORDS.contains(name.toLowerCase()) && !name.matches("\\d.*")) {
                names.add(name);
            }
        }
        return names;
    }
}
