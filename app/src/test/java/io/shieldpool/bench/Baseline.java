package io.shieldpool.bench;

import sun.misc.Signal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The baseline: the plain JDK 25 virtual-thread pool a Java user writes by hand. One virtual
 * thread per worker loops over sections of {@code steps} steps (a step sleeps {@code stepMillis},
 * or yields when 0), checking a stop flag between sections; SIGTERM sets the flag and main joins
 * every thread. It prints the same two JSON events as the daemon (ready, shutdown.complete), so
 * the benchmark reads both the same way.
 *
 * <p>Usage: {@code Baseline WORKERS STEPS STEP_MILLIS}
 */
public final class Baseline {

    private static volatile boolean stopping;

    public static void main(String[] args) throws Exception {
        int workers = Integer.parseInt(args[0]);
        int steps = Integer.parseInt(args[1]);
        long stepMillis = Long.parseLong(args[2]);
        Object signalled = new Object();
        Signal.handle(new Signal("TERM"), s -> {
            stopping = true;
            synchronized (signalled) {
                signalled.notifyAll();
            }
        });
        LongAdder completed = new LongAdder();
        List<Thread> threads = new ArrayList<>(workers);
        for (int i = 0; i < workers; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    while (!stopping) {
                        for (int step = 0; step < steps; step++) {
                            if (stepMillis == 0) {
                                Thread.yield();
                            } else {
                                Thread.sleep(stepMillis);
                            }
                        }
                        completed.increment();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        System.out.println("{\"timestamp\":\"" + Instant.now() + "\",\"event\":\"ready\",\"workers\":" + workers + "}");
        System.out.flush();
        synchronized (signalled) {
            while (!stopping) {
                signalled.wait();
            }
        }
        long drainStart = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        long drainMs = (System.nanoTime() - drainStart) / 1_000_000;
        System.out.println("{\"timestamp\":\"" + Instant.now() + "\",\"event\":\"shutdown.complete\",\"completed\":"
                + completed.sum() + ",\"drain_ms\":" + drainMs + "}");
        System.out.flush();
        System.exit(0);
    }
}
