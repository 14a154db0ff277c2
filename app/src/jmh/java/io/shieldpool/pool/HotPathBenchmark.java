package io.shieldpool.pool;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Continuation;
import io.shieldpool.kinds.Work;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Micro-benchmarks of the per-section hot path: admitting through the stop gate, waiting in a
 * delay line, and a whole section (admit, three yielding steps, record the outcome) on a real
 * shard on a real Vert.x event loop.
 *
 * <p>Each benchmark has its own state, so the shard's busy event loop runs only while
 * {@link #wholeSection} is measured and never competes with the single-threaded benchmarks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HotPathBenchmark {

    @State(Scope.Thread)
    public static class GateState {
        final StopGate gate = new StopGate();
    }

    @State(Scope.Thread)
    public static class LineState {
        final DelayLine line = new DelayLine(1_000);
        final Worker parked = new Worker(1, null);
        long now;
    }

    /** A shard of 1000 workers on one event loop, looping over sections of three yielding steps. */
    @State(Scope.Benchmark)
    public static class ShardState {
        final AtomicLong sections = new AtomicLong();
        Vertx vertx;
        Shard shard;

        /** Three steps that each yield to the shard's scheduler, then complete: B2's section. */
        private final class YieldingWork implements Work, Continuation {
            @Override
            public void begin(ActiveSection section) {
                section.resumeAfter(0, this);
            }

            @Override
            public void resume(ActiveSection section) {
                section.stepDone();
                if (section.stepsDone() < 3) {
                    section.resumeAfter(0, this);
                } else {
                    sections.lazySet(sections.get() + 1);
                    section.complete();
                }
            }

            @Override
            public String type() {
                return "bench";
            }
        }

        @Setup(Level.Trial)
        public void start() throws Exception {
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
            ShardListener quiet = new ShardListener() {
                @Override
                public void drained(Shard shard) {
                }

                @Override
                public void workerDied(Shard shard, long workerId, Throwable cause) {
                }
            };
            shard = new Shard(0, 1, new YieldingWork(),
                    new ShieldpoolConfig.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)), quiet);
            vertx.deployVerticle(shard).await(10, TimeUnit.SECONDS);
            AtomicLong ids = new AtomicLong(1);
            shard.onShard(() -> shard.addWorkers(1000, ids::getAndIncrement)).await(10, TimeUnit.SECONDS);
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            // why: the shard's stop waits for its sections to drain, which only starts once the
            // gate is closed, as the supervisor does on SIGTERM.
            shard.onShard(shard::closeGate).await(10, TimeUnit.SECONDS);
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    public boolean admitAndRelease(GateState state) {
        state.gate.tryAdmit();
        return state.gate.release();
    }

    @Benchmark
    public Worker delayLineAddAndPoll(LineState state) {
        state.line.add(state.parked, state.now);
        state.now += 10;
        return state.line.pollDue(state.now + 1_000);
    }

    /** One section of three yielding steps on a shard with 1000 workers (one event loop). */
    @Benchmark
    @OperationsPerInvocation(100_000)
    public long wholeSection(ShardState state) {
        long target = state.sections.get() + 100_000;
        while (state.sections.get() < target) {
            LockSupport.parkNanos(100_000);
        }
        return target;
    }
}
