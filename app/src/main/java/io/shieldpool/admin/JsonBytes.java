package io.shieldpool.admin;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.charset.StandardCharsets;

/**
 * A JSON text written straight into one growing byte array, then handed to Vert.x without a copy.
 * why not a JsonObject tree: {@code /status?workers=1000} built a map per worker and then serialized
 * it, about 1.1 MB of garbage per request for a 112 kB answer; polled by several clients, that
 * garbage was promoted faster than the collector returned it (issue 13). The caller writes the
 * structure (keys, commas) itself; this class only encodes values. Not thread-safe: one per answer.
 */
final class JsonBytes {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int length;

    JsonBytes(int expectedBytes) {
        bytes = new byte[Math.max(64, expectedBytes)];
    }

    /** Punctuation or a key the caller knows to be plain ASCII with nothing to escape: {@code ,"id":}. */
    JsonBytes raw(String ascii) {
        int n = ascii.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            bytes[length++] = (byte) ascii.charAt(i);
        }
        return this;
    }

    JsonBytes number(long value) {
        ensure(20);
        if (value == Long.MIN_VALUE) {
            return raw(Long.toString(value));
        }
        if (value < 0) {
            bytes[length++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long rest = value / 10; rest > 0; rest /= 10) {
            digits++;
        }
        for (int i = length + digits - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length += digits;
        return this;
    }

    /** A JSON text already encoded (by Vert.x's codec), copied as it is in UTF-8. */
    JsonBytes json(String encoded) {
        byte[] utf8 = encoded.getBytes(StandardCharsets.UTF_8);
        ensure(utf8.length);
        System.arraycopy(utf8, 0, bytes, length, utf8.length);
        length += utf8.length;
        return this;
    }

    /** {@code value} as a JSON string (quoted, escaped, UTF-8), or {@code null}. */
    JsonBytes string(String value) {
        if (value == null) {
            return raw("null");
        }
        ensure(value.length() + 2);
        bytes[length++] = '"';
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                ensure(2);
                bytes[length++] = '\\';
                bytes[length++] = (byte) c;
            } else if (c < 0x20) {
                ensure(6);
                bytes[length++] = '\\';
                bytes[length++] = 'u';
                bytes[length++] = '0';
                bytes[length++] = '0';
                bytes[length++] = HEX[c >> 4];
                bytes[length++] = HEX[c & 0xf];
            } else if (c < 0x80) {
                ensure(1);
                bytes[length++] = (byte) c;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < value.length()) {
                    encoded = value.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                ensure(encoded.length);
                System.arraycopy(encoded, 0, bytes, length, encoded.length);
                length += encoded.length;
            }
        }
        ensure(1);
        bytes[length++] = '"';
        return this;
    }

    /** The text written so far; the array is handed over, not copied. */
    Buffer toBuffer() {
        return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes, 0, length));
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
