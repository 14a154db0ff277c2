package io.shieldpool.config;

/**
 * One thing wrong with the configuration, worded for the operator who must fix it:
 * {@code shieldpool.pool.size: -1 (expected: an integer >= 0) at /etc/shieldpool/shieldpool.conf:7}.
 *
 * @param key      full path of the offending key, or null for a problem with the whole file
 * @param value    the value as written (rendered), or null when there is none
 * @param expected what would have been accepted
 * @param where    file:line, or the name of the source (environment, system properties)
 */
public record ConfigProblem(String key, String value, String expected, String where) {

    /** A problem that is not about one key's value, such as a syntax error; printed as is. */
    public static ConfigProblem general(String message) {
        return new ConfigProblem(null, null, message, null);
    }

    @Override
    public String toString() {
        if (key == null) {
            return expected;
        }
        StringBuilder line = new StringBuilder(key);
        if (value != null) {
            line.append(": ").append(value);
        }
        line.append(value == null ? ": " : " (expected: ").append(expected);
        if (value != null) {
            line.append(')');
        }
        if (where != null && !where.isEmpty()) {
            line.append(" at ").append(where);
        }
        return line.toString();
    }
}
