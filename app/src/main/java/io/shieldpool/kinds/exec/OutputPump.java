package io.shieldpool.kinds.exec;

import org.slf4j.Logger;

import java.nio.charset.StandardCharsets;

/**
 * Logs one output stream of a command line by line, as {@link ChildWatch} hands it the bytes
 * read from the pipe. Lines are split on bytes, so a line longer than
 * {@link OutputBudget#maxLineLength} costs that much memory at most: the rest of it is read and
 * thrown away. Used by one thread at a time.
 */
final class OutputPump {

    static final String TRUNCATED_MARK = " [line truncated]";
    private static final int INITIAL_LINE_BUFFER = 8192;
    private static final byte[] NO_LINE = new byte[0];

    private final String stream;
    private final OutputBudget budget;
    private final Logger output;
    private final long workerId;
    private final long sectionId;
    /** The line being read: its first maxLineLength bytes at most. */
    private byte[] line;
    private int length;
    private long lineBytes;

    OutputPump(String stream, OutputBudget budget, Logger output, long workerId, long sectionId) {
        this.stream = stream;
        this.budget = budget;
        this.output = output;
        this.workerId = workerId;
        this.sectionId = sectionId;
        this.line = NO_LINE; // why lazily: most commands of a busy pool write nothing to one stream or both
    }

    /** The next bytes read from the pipe, logged line by line as each line is complete. */
    void accept(byte[] chunk, int n) {
        int from = 0;
        for (int i = 0; i < n; i++) {
            if (chunk[i] == '\n') {
                append(chunk, from, i - from);
                endLine();
                from = i + 1;
            }
        }
        append(chunk, from, n - from);
    }

    /** The pipe reached its end (or was given up): a last line without a newline is logged. */
    void finish() {
        if (lineBytes > 0) {
            endLine();
        }
    }

    private void append(byte[] chunk, int from, int count) {
        lineBytes += count;
        int kept = Math.min(budget.maxLineLength() - length, count);
        if (kept <= 0) {
            return;
        }
        if (length + kept > line.length) {
            byte[] bigger = new byte[Math.min(budget.maxLineLength(),
                    Math.max(length + kept, Math.max(INITIAL_LINE_BUFFER, line.length * 2)))];
            System.arraycopy(line, 0, bigger, 0, length);
            line = bigger;
        }
        System.arraycopy(chunk, from, line, length, kept);
        length += kept;
    }

    private void endLine() {
        byte[] bytes = line;
        int end = length;
        boolean truncated = lineBytes > length;
        if (truncated) {
            while (end > 0 && (bytes[end - 1] & 0xC0) == 0x80) {
                end--; // cut before a torn UTF-8 sequence...
            }
            if (end > 0 && (bytes[end - 1] & 0xC0) == 0xC0) {
                end--; // ...and its lead byte
            }
        } else if (end > 0 && bytes[end - 1] == '\r') {
            end--;
        }
        long now = System.nanoTime();
        if (budget.admit(now)) {
            String text = new String(bytes, 0, end, StandardCharsets.UTF_8);
            var event = stream.equals("stderr") ? output.atWarn() : output.atInfo();
            event.addKeyValue("event", "exec.output").addKeyValue("worker", workerId)
                    .addKeyValue("section", sectionId).addKeyValue("stream", stream)
                    .log(truncated ? text + TRUNCATED_MARK : text);
            if (truncated && budget.firstTruncation()) {
                output.atWarn().addKeyValue("event", "exec.output.truncated").addKeyValue("worker", workerId)
                        .addKeyValue("section", sectionId).addKeyValue("stream", stream)
                        .addKeyValue("line_bytes", lineBytes).addKeyValue("max_line_length", budget.maxLineLength())
                        .log("worker {} section {}: a {} line of {} bytes was cut to work.exec.max-line-length ({} bytes);"
                                + " longer lines of this command are cut too, each marked{}", workerId, sectionId,
                                stream, lineBytes, budget.maxLineLength(), TRUNCATED_MARK);
            }
        }
        reportDropped(now, false);
        length = 0;
        lineBytes = 0;
        if (line.length > INITIAL_LINE_BUFFER) {
            line = new byte[INITIAL_LINE_BUFFER]; // why: one long line should not keep its buffer for the command's life
        }
    }

    /** Logs the lines dropped over the rate limit, at most once a second (or now, at the end). */
    void reportDropped(long now, boolean force) {
        long dropped = budget.takeDroppedReport(now, force);
        if (dropped > 0) {
            output.atWarn().addKeyValue("event", "exec.output.dropped").addKeyValue("worker", workerId)
                    .addKeyValue("section", sectionId).addKeyValue("dropped", dropped)
                    .log("worker {} section {}: {} output line(s) dropped: over work.exec.max-lines-per-second",
                            workerId, sectionId, dropped);
        }
    }
}
