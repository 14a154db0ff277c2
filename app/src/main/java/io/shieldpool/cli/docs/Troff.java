package io.shieldpool.cli.docs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** A man page being written in troff (man(7) macros), and the gzip -9n that Debian wants for it. */
final class Troff {

    private final StringBuilder out = new StringBuilder(8192);

    /** Text escaped for troff: backslashes, and a leading dot or quote that would read as a request. */
    static String escape(String text) {
        String s = text.replace("\\", "\\e").replace("-", "\\-");
        return s.startsWith(".") || s.startsWith("'") ? "\\&" + s : s;
    }

    Troff request(String name, String... args) {
        out.append('.').append(name);
        for (String arg : args) {
            out.append(" \"").append(arg.replace("\"", "\\(dq")).append('"');
        }
        out.append('\n');
        return this;
    }

    /** One line of text, escaped. */
    Troff text(String line) {
        out.append(line.isBlank() ? ".PP" : escape(line.strip())).append('\n');
        return this;
    }

    /** One line of troff written as is (already escaped, may carry font changes). */
    Troff raw(String line) {
        out.append(line).append('\n');
        return this;
    }

    static String bold(String text) {
        return "\\fB" + escape(text) + "\\fR";
    }

    static String italic(String text) {
        return "\\fI" + escape(text) + "\\fR";
    }

    /** A term with its description below, indented (.TP). */
    Troff item(String term, Iterable<String> description) {
        request("TP").raw(term);
        for (String line : description) {
            text(line);
        }
        return this;
    }

    String page() {
        return out.toString();
    }

    /**
     * Writes {@code text} gzip-compressed as {@code gzip -9n} does: best compression flagged in the
     * header (lintian checks it), no name and no timestamp, so two builds give the same bytes.
     */
    static void writeGzip(Path file, String text) throws IOException {
        byte[] data = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        // magic, deflate, no flags, mtime 0, XFL 2 (maximum compression), OS 3 (Unix)
        gz.write(new byte[]{0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 2, 3});
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            gz.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        CRC32 crc = new CRC32();
        crc.update(data);
        gz.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) crc.getValue()).putInt(data.length).array());
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, gz.toByteArray());
    }
}
