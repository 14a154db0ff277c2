package io.shieldpool.config;


import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** shieldpool.admin.*: the bind rules and the token, which must never leak into a message. */
class AdminConfigTest {

    private static final String TOKEN = "s3cret-admin-token-0123456789";

    @TempDir
    Path dir;

    private ConfigText text;

    @BeforeEach
    void file() {
        text = new ConfigText(dir.resolve("admin.conf"));
    }

    @Test
    void defaultsBindLoopbackWithoutToken() throws Exception {
        ShieldpoolConfig.Admin admin = text.defaults().admin();
        assertThat(admin.enabled()).isTrue();
        assertThat(admin.host()).isEqualTo("127.0.0.1");
        assertThat(admin.port()).isEqualTo(8642);
        assertThat(admin.token()).isEmpty();
    }

    @Test
    void nonLoopbackBindWithoutTokenIsOneLineNamingTheTokenKeyAtTheHostsLine() throws Exception {
        Path file = dir.resolve("admin.conf");
        assertThat(text.problems("shieldpool.pool.size = 2\nshieldpool.admin.host = 0.0.0.0\n")).containsExactly(
                "shieldpool.admin.token: (none) (expected: a token of at least 16 characters, required because "
                        + "shieldpool.admin.host 0.0.0.0 is not a loopback address) at " + file + ":2");
    }

    @Test
    void nonLoopbackBindWithTokenIsFineAndDisabledNeedsNone() throws Exception {
        ShieldpoolConfig config = text.load("shieldpool.admin { host = \"::\", token = \"" + TOKEN + "\" }\n");
        assertThat(config.admin().token()).contains(TOKEN);
        assertThat(text.load("shieldpool.admin { host = 0.0.0.0, enabled = false }\n").admin().enabled()).isFalse();
    }

    @Test
    void aBadTokenIsReportedWithoutItsValue() throws Exception {
        List<String> tooShort = text.problems("shieldpool.admin.token = \"short-secret\"\n");
        assertThat(tooShort).singleElement().asString()
                .startsWith("shieldpool.admin.token: (12 characters, hidden) (expected: at least 16 printable ASCII")
                .doesNotContain("short-secret");
        List<String> spaced = text.problems("shieldpool.admin.token = \"has a space in the middle of it\"\n");
        assertThat(spaced).singleElement().asString().doesNotContain("space in the middle");
    }

    @Test
    void portAndHostAreChecked() throws Exception {
        assertThat(text.problems("shieldpool.admin.port = 70000\n")).singleElement().asString()
                .startsWith("shieldpool.admin.port: 70000 (expected: an integer from 0 to 65535)");
        assertThat(text.problems("shieldpool.admin.host = \"not a host\"\n")).anyMatch(p ->
                p.startsWith("shieldpool.admin.host: \"not a host\" (expected: an IP address or host name"));
    }

    @Test
    void theTokenNeverShowsInToStringOrTheMaskedForm() throws Exception {
        ShieldpoolConfig config = text.load("shieldpool.admin.token = \"" + TOKEN + "\"\n");
        assertThat(config.toString()).doesNotContain(TOKEN).contains("token=(set, hidden)");
        assertThat(ShieldpoolConfig.masked(config.admin().token())).isEqualTo("(set, hidden)");
        assertThat(ShieldpoolConfig.SECRET_KEYS).contains("shieldpool.admin.token");
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,true", "127.8.9.10,true", "::1,true", "localhost,true", "LOCALHOST,true",
            "0.0.0.0,false", "::,false", "10.1.2.3,false", "example.internal,false", "192.168.1.1,false"})
    void loopback(String host, boolean loopback) {
        assertThat(Validator.isLoopback(host)).isEqualTo(loopback);
    }
}
