package io.shieldpool.control;

import io.shieldpool.view.PoolListener;
import io.shieldpool.view.ShutdownReport;

import java.time.Duration;
import java.util.List;

/** Hands each piece of lifecycle news to every listener, in order; fixed when the supervisor is deployed. */
final class Listeners implements PoolListener {

    private final List<PoolListener> all;

    Listeners(List<PoolListener> all) {
        this.all = List.copyOf(all);
    }

    @Override
    public void ready(int workers) {
        all.forEach(l -> l.ready(workers));
    }

    @Override
    public void drainBegan(String signal, long inFlight, Duration grace) {
        all.forEach(l -> l.drainBegan(signal, inFlight, grace));
    }

    @Override
    public void reloadBegan() {
        all.forEach(PoolListener::reloadBegan);
    }

    @Override
    public void reloadEnded(boolean applied, String summary) {
        all.forEach(l -> l.reloadEnded(applied, summary));
    }

    @Override
    public void resized(int from, int to) {
        all.forEach(l -> l.resized(from, to));
    }

    @Override
    public void stopped(ShutdownReport report) {
        all.forEach(l -> l.stopped(report));
    }
}
