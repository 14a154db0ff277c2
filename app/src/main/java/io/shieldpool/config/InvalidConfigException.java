package io.shieldpool.config;

import java.util.List;

/**
 * The configuration cannot be used; {@link #problems()} lists every reason, one line each.
 * Carries no stack trace worth showing: it is the operator's input that is wrong, not the code.
 */
public final class InvalidConfigException extends Exception {

    private final List<ConfigProblem> problems;

    public InvalidConfigException(List<ConfigProblem> problems) {
        super(problems.size() + " configuration problem(s): " + problems, null, false, false);
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }
}
