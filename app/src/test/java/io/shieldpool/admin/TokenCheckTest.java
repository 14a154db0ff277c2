package io.shieldpool.admin;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

class TokenCheckTest {

    private static final String TOKEN = "0123456789abcdef-token";
    private final TokenCheck check = new TokenCheck(TOKEN);

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bearerAndBasicWithTheTokenPass() {
        assertThat(check.refusal("Bearer " + TOKEN)).isEmpty();
        assertThat(check.refusal("bearer " + TOKEN)).isEmpty();
        assertThat(check.refusal(basic("admin", TOKEN))).isEmpty();
        assertThat(check.refusal(basic("", TOKEN))).isEmpty();
    }

    @Test
    void everythingElseIsRefusedWithAReasonThatNeverEchoesWhatWasSent() {
        assertThat(check.refusal(null)).contains("no token");
        assertThat(check.refusal("")).contains("no token");
        assertThat(check.refusal("Bearer " + TOKEN + "x")).contains("wrong token");
        assertThat(check.refusal("Bearer " + TOKEN.substring(1))).contains("wrong token");
        assertThat(check.refusal("Bearer")).contains("unsupported authorization scheme");
        assertThat(check.refusal(basic(TOKEN, "nope"))).contains("wrong token");
        assertThat(check.refusal("Basic %%%not-base64")).contains("malformed Basic credentials");
        assertThat(check.refusal("Token " + TOKEN)).contains("unsupported authorization scheme");
    }
}
