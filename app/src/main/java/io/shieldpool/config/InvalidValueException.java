package io.shieldpool.config;

/**
 * A configuration record was built with a value its rules refuse. Thrown by compact
 * constructors; {@link ConfigReader} turns it into a problem with the value's origin.
 */
public final class InvalidValueException extends IllegalArgumentException {

    private final ConfigProblem problem;

    public InvalidValueException(ConfigProblem problem) {
        super(problem.toString());
        this.problem = problem;
    }

    public ConfigProblem problem() {
        return problem;
    }
}
