package io.shieldpool.jobs.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The payloads of a POST /jobs body as they were written, byte for byte. why not the decoded
 * tree's encoding: it reads every number as a double, so 3.14159265358979323846 reached the
 * section as 3.141592653589793 and 1e400 as the string "Infinity"; a payload must arrive as the
 * client sent it, as it does through {@code shieldpool enqueue}.
 */
final class PayloadTexts {

    private static final JsonFactory FACTORY = new JsonFactory();

    private PayloadTexts() {
    }

    /**
     * Each payload's text, in the order {@link JobsEndpoints#parse} reads them: the elements of a
     * bare array, the {@code payload} field of each {@code jobs} element, or of the body object.
     * Call only on a body that decoded; the last of duplicate {@code payload} fields wins, as in the tree.
     */
    static List<String> of(byte[] body) {
        List<String> texts = new ArrayList<>();
        try (JsonParser parser = FACTORY.createParser(body)) {
            JsonToken root = parser.nextToken();
            if (root == JsonToken.START_ARRAY) {
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    texts.add(valueText(parser, body));
                }
            } else if (root == JsonToken.START_OBJECT) {
                String single = null;
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String field = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if (field.equals("payload")) {
                        single = valueText(parser, body);
                    } else if (field.equals("jobs") && value == JsonToken.START_ARRAY) {
                        texts.clear();
                        while (parser.nextToken() != JsonToken.END_ARRAY) {
                            texts.add(payloadOf(parser, body));
                        }
                    } else {
                        parser.skipChildren();
                    }
                }
                if (texts.isEmpty() && single != null) {
                    texts.add(single);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("body: not JSON (expected: {\"payload\": ...} or {\"jobs\": [...]})");
        }
        return texts;
    }

    /** At the start of one element of {@code jobs}: its payload's text, or null when it has none. */
    private static String payloadOf(JsonParser parser, byte[] body) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return null;
        }
        String payload = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            if (field.equals("payload")) {
                payload = valueText(parser, body);
            } else {
                parser.skipChildren();
            }
        }
        return payload;
    }

    /** At a value's first token: the value's text, the parser left on its last token. */
    private static String valueText(JsonParser parser, byte[] body) throws IOException {
        int start = (int) parser.currentTokenLocation().getByteOffset();
        parser.skipChildren();
        // why: a string's or a number's end is read lazily; finishing it puts the location past it
        parser.finishToken();
        int end = (int) parser.currentLocation().getByteOffset();
        return new String(body, start, end - start, StandardCharsets.UTF_8).strip();
    }
}
