package io.shieldpool.config;

import java.util.function.Predicate;

/**
 * One rule about one key, written once: its full name, what it accepts (in the words every
 * message about it uses), and the test. The reader applies it while reading (collecting a problem
 * with the value's origin), and the record holding the value applies it again in its compact
 * constructor, so a value built in code (a reload's mix of old and new, a test) obeys the same rule.
 *
 * @param key         full key, such as {@code shieldpool.pool.size}
 * @param expected    what is accepted: "an integer >= 0"
 * @param accepts     the test
 * @param placeholder a value that passes, used after a problem so reading can go on
 */
public record Rule<T>(String key, String expected, Predicate<T> accepts, T placeholder) {

    /** An integer of at least {@code min}. */
    public static Rule<Integer> intAtLeast(String key, int min) {
        return new Rule<>(key, "an integer >= " + min, v -> v >= min, min);
    }

    /** A duration of at least {@code min}; {@code placeholder} when it is not. */
    public static Rule<java.time.Duration> durationAtLeast(String key, java.time.Duration min,
                                                          java.time.Duration placeholder) {
        String expected = "a duration such as 250ms, 30s or 2m"
                + (min.isZero() ? " (0 allowed)" : ", at least " + min.toMillis() + "ms");
        return new Rule<>(key, expected, v -> v.compareTo(min) >= 0, placeholder);
    }

    /** Throws unless {@code value} passes; for compact constructors. */
    public T check(T value) {
        if (value == null || !accepts.test(value)) {
            throw new InvalidValueException(new ConfigProblem(key, String.valueOf(value), expected, null));
        }
        return value;
    }

    /** Throws naming {@code key} unless {@code ok}: a rule over several values (max >= initial). */
    public static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new InvalidValueException(new ConfigProblem(key, String.valueOf(value), expected, null));
        }
    }
}
