package io.shieldpool.pool;

import io.shieldpool.view.ShardSnapshot;
import io.shieldpool.view.WorkerState;
import io.shieldpool.view.WorkerStatus;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Work;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Resizing one shard: who retires, when, and that no section is cut. */
@Timeout(30)
class ShardResizeTest {

    /** Sections that stay open until the test ends them: the test decides when a section ends. */
    static final class HeldWork implements Work {
        final Map<Long, ActiveSection> open = new ConcurrentHashMap<>();

        @Override
        public void begin(ActiveSection section) {
            open.put(section.workerId(), section);
        }

        @Override
        public String type() {
            return "held";
        }
    }

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final HeldWork work = new HeldWork();
    private final AtomicLong ids = new AtomicLong(1);
    private Shard shard;

    @BeforeEach
    void deploy() throws Exception {
        ShardListener quiet = new ShardListener() {
            @Override
            public void drained(Shard s) {
            }

            @Override
            public void workerDied(Shard s, long workerId, Throwable cause) {
            }
        };
        shard = new Shard(0, 1, work, new ShieldpoolConfig.Backoff(Duration.ofMillis(10), Duration.ofMillis(10)), quiet);
        vertx.deployVerticle(shard).await(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private Map<Long, WorkerState> states() throws Exception {
        return shard.onShard(() -> shard.workers(100)).await(5, TimeUnit.SECONDS).stream()
                .collect(Collectors.toMap(WorkerStatus::id, WorkerStatus::state));
    }

    private void end(long workerId) throws Exception {
        ActiveSection section = work.open.remove(workerId);
        shard.onShard(() -> {
            section.complete();
            return null;
        }).await(5, TimeUnit.SECONDS);
    }

    private int resize(int target) throws Exception {
        return shard.onShard(() -> shard.resizeTo(target, ids::getAndIncrement)).await(5, TimeUnit.SECONDS);
    }

    @Test
    void shrinkingRetiresTheNewestBusyWorkersAfterTheirSection() throws Exception {
        resize(4);
        await().until(() -> work.open.size() == 4);
        assertThat(resize(2)).isEqualTo(-2);
        assertThat(states()).containsEntry(1L, WorkerState.BUSY).containsEntry(2L, WorkerState.BUSY)
                .containsEntry(3L, WorkerState.RETIRING).containsEntry(4L, WorkerState.RETIRING);
        assertThat(shard.onShard(shard::activeCount).await(5, TimeUnit.SECONDS)).isEqualTo(2);

        end(4);
        await().until(() -> !states().containsKey(4L));
        assertThat(work.open).doesNotContainKey(4L);
        ShardSnapshot snapshot = shard.onShard(shard::snapshot).await(5, TimeUnit.SECONDS);
        assertThat(snapshot.completed()).as("the retiring section was completed, not cut").isEqualTo(1);

        end(1);
        await().until(() -> work.open.containsKey(1L)); // worker 1 stays and starts its next section
        assertThat(states()).containsOnlyKeys(1L, 2L, 3L);
    }

    @Test
    void growingAfterAShrinkKeepsRetiringWorkersBeforeStartingNewOnes() throws Exception {
        resize(3);
        await().until(() -> work.open.size() == 3);
        resize(1);
        assertThat(states().values()).filteredOn(s -> s == WorkerState.RETIRING).hasSize(2);
        assertThat(resize(4)).isEqualTo(3);
        Map<Long, WorkerState> states = states();
        assertThat(states.values()).doesNotContain(WorkerState.RETIRING);
        assertThat(states).containsOnlyKeys(1L, 2L, 3L, 4L);
    }

    @Test
    void resizingToZeroRetiresEveryWorkerOnlyAfterItsSection() throws Exception {
        resize(3);
        await().until(() -> work.open.size() == 3);
        // A closed gate stops worker 3 between sections; the other two are still busy.
        shard.onShard(shard::closeGate).await(5, TimeUnit.SECONDS);
        end(3);
        await().until(() -> !states().containsKey(3L)); // refused by the closed gate: stopped
        assertThat(resize(0)).isEqualTo(-2);
        assertThat(states().values()).containsOnly(WorkerState.RETIRING);
        end(1);
        end(2);
        await().until(() -> states().isEmpty());
        List<Long> stillOpen = List.copyOf(work.open.keySet());
        assertThat(stillOpen).isEmpty();
    }
}
