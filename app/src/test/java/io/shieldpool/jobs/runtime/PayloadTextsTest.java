package io.shieldpool.jobs.runtime;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A POST /jobs payload reaches the store as the client wrote it, whatever its shape or numbers. */
class PayloadTextsTest {

    private static List<String> of(String body) {
        return PayloadTexts.of(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void numbersBeyondADoubleAreKeptAsWritten() {
        // decoded and encoded again, these were 3.141592653589793, "Infinity", 100.0 and 0
        assertThat(of("{\"payload\": {\"pi\": 3.14159265358979323846, \"big\": 1e400, \"e\": 1E+2, \"z\": -0}}"))
                .containsExactly("{\"pi\": 3.14159265358979323846, \"big\": 1e400, \"e\": 1E+2, \"z\": -0}");
        assertThat(of("{\"payload\": 1e400}")).containsExactly("1e400");
        assertThat(of("{\"payload\":0.10000000000000000001,\"key\":\"k\"}")).containsExactly("0.10000000000000000001");
    }

    @Test
    void everyShapeOfBodyGivesItsPayloadsInOrder() {
        assertThat(of("[1.50, \"two\", {\"three\": [3]}, null, true]"))
                .containsExactly("1.50", "\"two\"", "{\"three\": [3]}", "null", "true");
        assertThat(of("{\"jobs\": [{\"queue\": \"q\", \"payload\": 12345678901234567890.5}, {\"payload\": \"é\\u00e9\"},"
                + " {\"payload\": [ 1 , 2 ] , \"key\": \"k\"}]}"))
                .containsExactly("12345678901234567890.5", "\"é\\u00e9\"", "[ 1 , 2 ]");
        assertThat(of("  {\"max_attempts\": 3, \"payload\" :\n\"x\" , \"delay_ms\": 5}  ")).containsExactly("\"x\"");
        // the last of two payload fields, as the decoded tree takes it
        assertThat(of("{\"payload\": 1, \"payload\": 2.000}")).containsExactly("2.000");
    }
}
