package io.shieldpool.view;


/**
 * How the run ended: the pool's totals over the whole run, how long the drain took, and the exit
 * code. {@code totals.started == completed + failed + timedOut + abandoned} once the pool has stopped
 * (nothing is in flight then: every admitted section has ended or was abandoned).
 */
public record ShutdownReport(ShardSnapshot totals, long drainMillis, ExitCode exitCode, String reason) {
}
