package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin token rules, on the real daemon. */
@Timeout(120)
class AdminSecurityIT {

    private static final String TOKEN = "it-token-7f3a9c1e5b2d4680";

    @TempDir
    Path dir;

    @Test
    void aNonLoopbackBindWithoutTokenIsAConfigErrorNamingTheKey() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, "shieldpool.admin.host = 0.0.0.0")) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            List<String> problems = daemon.stderr().stream().filter(l -> l.startsWith("shieldpool: config error:")).toList();
            assertThat(problems).singleElement().asString().contains("shieldpool.admin.token: (none) (expected: a token of "
                    + "at least 16 characters, required because shieldpool.admin.host 0.0.0.0 is not a loopback address)");
            assertThat(daemon.stderr()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
            assertThat(daemon.events("ready")).isEmpty();
        }
    }

    @Test
    void aBadTokenIsRejectedWithoutPrintingIt() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir, "shieldpool.admin.token = \"hunter2-short\"")) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
            assertThat(daemon.stderr()).anyMatch(l -> l.contains("shieldpool.admin.token: (13 characters, hidden)"));
            assertThat(daemon.stderr()).noneMatch(l -> l.contains("hunter2"));
            assertThat(daemon.stdout()).noneMatch(l -> l.contains("hunter2"));
        }
    }

    @Test
    void withATokenOnAnyAddressOnlyTheProbesAreOpen() throws Exception {
        // The token through the environment, as an operator should pass a secret.
        Map<String, String> env = Map.of("CONFIG_FORCE_shieldpool_admin_token", TOKEN);
        try (DaemonProcess daemon = DaemonProcess.start(dir,
                     "shieldpool.admin.host = 0.0.0.0\nshieldpool.log.level = debug", env);
             AdminClient admin = AdminClient.of(daemon)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            assertThat(daemon.events("admin.listening").getFirst().getString("auth")).isEqualTo("token");
            assertThat(daemon.events("config").getFirst().getString("shieldpool.admin.token")).isEqualTo("********");

            assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
            String basic = "Basic " + Base64.getEncoder().encodeToString(("ops:" + TOKEN).getBytes(StandardCharsets.UTF_8));
            int refusals = 0;
            for (String path : List.of("/status", "/metrics", "/")) {
                HttpResponse<String> missing = admin.get(path);
                assertThat(missing.statusCode()).as("%s without a token", path).isEqualTo(401);
                assertThat(new JsonObject(missing.body()).getString("error")).startsWith("unauthorized");
                assertThat(admin.get(path, "Authorization", "Bearer " + TOKEN.replace('7', '8')).statusCode())
                        .as("%s with a wrong token", path).isEqualTo(401);
                refusals += 2;
                assertThat(admin.get(path, "Authorization", "Bearer " + TOKEN).statusCode()).as(path).isEqualTo(200);
                assertThat(admin.get(path, "Authorization", basic).statusCode()).as(path).isEqualTo(200);
            }
            // A flood of bad tokens: refused every time, logged once (one line per 10 s at most).
            for (int i = 0; i < 40; i++) {
                assertThat(admin.get("/metrics", "Authorization", "Bearer guess-" + i).statusCode()).isEqualTo(401);
                refusals++;
            }
            assertThat(refusals).isEqualTo(46);
            List<JsonObject> warnings = daemon.events("admin.unauthorized");
            assertThat(warnings).hasSize(1);
            assertThat(warnings.getFirst().getString("level")).isEqualTo("WARN");
            assertThat(warnings.getFirst().getString("path")).isEqualTo("/status");

            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).isZero();
            assertThat(daemon.stdout()).as("the token is never logged").noneMatch(l -> l.contains(TOKEN));
            assertThat(daemon.stderr()).noneMatch(l -> l.contains(TOKEN));
            DrainInvariants.check(daemon, false);
        }
    }
}
