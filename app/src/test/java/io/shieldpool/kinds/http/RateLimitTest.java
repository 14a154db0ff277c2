package io.shieldpool.kinds.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The max-rate line, on an injected clock and scheduler. */
class RateLimitTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final PriorityQueue<Timer> timers = new PriorityQueue<>((a, b) -> Long.compare(a.due, b.due));
    /** When each section's turn came, by name, in order. */
    private final List<String> sends = new ArrayList<>();
    private long sequence;

    private record Timer(long due, long sequence, Runnable task) {
    }

    private final RateLimit.Scheduler scheduler = (delay, task) -> timers.add(new Timer(now.get() + delay, sequence++, task));

    /** Moves the clock forward, firing the timers due on the way, each at its own time. */
    private void advance(long nanos) {
        long end = now.get() + nanos;
        while (!timers.isEmpty() && timers.peek().due <= end) {
            Timer timer = timers.poll();
            now.set(Math.max(now.get(), timer.due));
            timer.task.run();
        }
        now.set(end);
    }

    private RateLimit.Turn join(RateLimit limit, String name) {
        return limit.await(turn -> sends.add(name + "@" + (now.get() - 1_000_000_000L) / MS));
    }

    /** Asks to write request {@code name}; its write is recorded at the instant it is made. */
    private void write(RateLimit limit, List<String> writes, String name) {
        limit.awaitWrite(() -> true, () -> writes.add(name + "@" + (now.get() - 1_000_000_000L) / MS));
    }

    @Test
    void writesWhoseConnectionsOpenedTogetherAreSpacedOneIntervalApart() {
        RateLimit limit = new RateLimit(4, now::get, scheduler); // one per 250 ms
        // Four turns handed out on time, whose connection set-ups all end at 900 ms.
        join(limit, "a");
        join(limit, "b");
        join(limit, "c");
        join(limit, "d");
        advance(900 * MS);
        assertThat(sends).hasSize(4);
        List<String> writes = new ArrayList<>();
        for (String name : List.of("a", "b", "c", "d")) {
            write(limit, writes, name);
        }
        advance(2_000 * MS);
        assertThat(writes).containsExactly("a@900", "b@1150", "c@1400", "d@1650");
        advance(10_000 * MS); // idle: the next write goes at once, no credit builds up
        write(limit, writes, "e");
        write(limit, writes, "f");
        assertThat(writes).endsWith("e@12900");
        advance(250 * MS);
        assertThat(writes).endsWith("e@12900", "f@13150");
    }

    /**
     * No turn is handed out while requests wait to be written: its connection would wait in the
     * write line as well. With turns handed out meanwhile, a line formed by set-ups that ended
     * together never shrank (turns and writes come at one rate), and every later request held its
     * connection idle for as long as the line was.
     */
    @Test
    void noTurnIsHandedOutWhileRequestsWaitToBeWritten() {
        RateLimit limit = new RateLimit(4, now::get, scheduler); // one per 250 ms
        List<String> writes = new ArrayList<>();
        join(limit, "a");
        join(limit, "b");
        join(limit, "c");
        advance(500 * MS);
        assertThat(sends).containsExactly("a@0", "b@250", "c@500");
        // Their set-ups all end at 600 ms: a is written at once, b and c wait in the write line.
        advance(100 * MS);
        for (String name : List.of("a", "b", "c")) {
            write(limit, writes, name);
        }
        join(limit, "d");
        join(limit, "e");
        advance(499 * MS); // b written at 850, c at 1100 (the line is empty from then)
        assertThat(writes).containsExactly("a@600", "b@850");
        assertThat(sends).as("no turn while b or c waited to be written").hasSize(3);
        advance(1 * MS);
        assertThat(writes).containsExactly("a@600", "b@850", "c@1100");
        assertThat(sends).endsWith("d@1100");
        write(limit, writes, "d"); // d's connection opened at once: written one interval after c
        advance(250 * MS);
        assertThat(writes).endsWith("c@1100", "d@1350");
        assertThat(sends).as("e waited for d's write").endsWith("d@1100", "e@1350");
    }

    /**
     * A request whose section timed out in the write line leaves it without taking a write's place:
     * counted as a write, such requests kept the line as long as it was (turns come at the rate of
     * writes), and every later request waited past its timeout too.
     */
    @Test
    void aRequestNoLongerWantedLeavesTheWriteLineWithoutTakingAWritesPlace() {
        RateLimit limit = new RateLimit(10, now::get, scheduler); // one per 100 ms
        List<String> writes = new ArrayList<>();
        List<String> leftWithoutWrite = new ArrayList<>();
        write(limit, writes, "a"); // at once
        java.util.concurrent.atomic.AtomicBoolean bWanted = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicBoolean cWanted = new java.util.concurrent.atomic.AtomicBoolean(true);
        limit.awaitWrite(bWanted::get, () -> (bWanted.get() ? writes : leftWithoutWrite).add("b@" + (now.get() - 1_000_000_000L) / MS));
        limit.awaitWrite(cWanted::get, () -> (cWanted.get() ? writes : leftWithoutWrite).add("c@" + (now.get() - 1_000_000_000L) / MS));
        write(limit, writes, "d");
        advance(50 * MS);
        bWanted.set(false); // b's and c's sections time out while they wait
        cWanted.set(false);
        advance(200 * MS);
        // d takes the first place after a (100 ms), not the third (300 ms); b and c leave then too.
        assertThat(writes).containsExactly("a@0", "d@100");
        assertThat(leftWithoutWrite).containsExactly("b@100", "c@100");
        advance(1_000 * MS);
        assertThat(writes).containsExactly("a@0", "d@100");
    }

    @Test
    void writesDueWhileTheLoopStalledStillGoOneIntervalApart() {
        RateLimit limit = new RateLimit(10, now::get, scheduler); // one per 100 ms
        List<String> writes = new ArrayList<>();
        for (String name : List.of("a", "b", "c", "d", "e")) {
            write(limit, writes, name);
        }
        // The event loop stalls for 700 ms: no timer runs until then.
        now.addAndGet(700 * MS);
        advance(1_000 * MS);
        // b goes when the loop is back; the others follow 1/rate apart, not as a burst of four.
        assertThat(writes).containsExactly("a@0", "b@700", "c@800", "d@900", "e@1000");
    }

    @Test
    void withoutARateWritesNeverWait() {
        RateLimit limit = new RateLimit(0, now::get, scheduler);
        List<String> writes = new ArrayList<>();
        write(limit, writes, "a");
        write(limit, writes, "b");
        assertThat(writes).containsExactly("a@0", "b@0");
    }

    @Test
    void turnsComeOneIntervalApartInOrderWithoutBurstCredit() {
        RateLimit limit = new RateLimit(4, now::get, scheduler); // one per 250 ms
        join(limit, "a");
        join(limit, "b");
        join(limit, "c");
        assertThat(sends).containsExactly("a@0");
        advance(600 * MS);
        assertThat(sends).containsExactly("a@0", "b@250", "c@500");
        advance(10_000 * MS); // idle for 10 s: no credit for a burst
        join(limit, "d");
        join(limit, "e");
        advance(100 * MS);
        assertThat(sends).containsExactly("a@0", "b@250", "c@500", "d@10600");
        advance(200 * MS);
        assertThat(sends).endsWith("e@10850");
    }

    @Test
    void aSectionThatLeavesTheLineTakesNoSlotWithIt() {
        RateLimit limit = new RateLimit(10, now::get, scheduler); // one per 100 ms
        join(limit, "a");
        RateLimit.Turn b = join(limit, "b");
        join(limit, "c");
        assertThat(b.cancel()).isTrue();
        advance(250 * MS);
        assertThat(sends).containsExactly("a@0", "c@100");
        assertThat(limit.waiting()).isZero();
    }

    @Test
    void aLongLineOfSectionsThatTimeOutDoesNotPushLaterOnesBack() {
        RateLimit limit = new RateLimit(10, now::get, scheduler);
        join(limit, "first");
        // 1000 sections join and leave (their work.timeout passed) before their turn.
        for (int i = 0; i < 1000; i++) {
            join(limit, "gone" + i).cancel();
        }
        join(limit, "next");
        advance(100 * MS);
        assertThat(sends).containsExactly("first@0", "next@100");
    }

    @Test
    void aTurnHandedToASectionThatJustEndedIsGivenBack() {
        RateLimit limit = new RateLimit(10, now::get, scheduler);
        join(limit, "a");
        advance(100 * MS);
        List<RateLimit.Turn> handedOut = new ArrayList<>();
        RateLimit.Turn b = limit.await(handedOut::add);
        join(limit, "c");
        assertThat(handedOut).containsExactly(b);
        assertThat(b.cancel()).as("too late to leave the line").isFalse();
        b.giveBack(); // b's section had timed out: it sends nothing
        assertThat(sends).containsExactly("a@0", "c@100");
        b.giveBack(); // once only
        join(limit, "d");
        advance(100 * MS);
        assertThat(sends).containsExactly("a@0", "c@100", "d@200");
    }

    @Test
    void aTurnGivenBackAfterALaterSendChangesNothing() {
        RateLimit limit = new RateLimit(10, now::get, scheduler);
        List<RateLimit.Turn> handedOut = new ArrayList<>();
        RateLimit.Turn a = limit.await(handedOut::add);
        join(limit, "b");
        advance(100 * MS);
        a.giveBack();
        join(limit, "c");
        advance(50 * MS);
        assertThat(sends).containsExactly("b@100");
        advance(50 * MS);
        assertThat(sends).containsExactly("b@100", "c@200");
    }

    @Test
    void zeroMeansNoLimitAndANewRateAppliesToTheSectionsWaiting() {
        RateLimit limit = new RateLimit(0, now::get, scheduler);
        for (int i = 0; i < 100; i++) {
            join(limit, "free" + i);
        }
        assertThat(sends).hasSize(100);
        sends.clear();
        advance(5_000 * MS);
        limit.setRate(1);
        join(limit, "a");
        join(limit, "b");
        join(limit, "c");
        assertThat(sends).containsExactly("a@5000");
        limit.setRate(10); // b waits 100 ms from a's send, not the old 1 s
        advance(100 * MS);
        assertThat(sends).containsExactly("a@5000", "b@5100");
        limit.setRate(0);
        assertThat(sends).containsExactly("a@5000", "b@5100", "c@5100");
        advance(2_000 * MS);
        assertThat(sends).hasSize(3);
    }

    @Test
    void aLateTimerStillSpacesTheTurnsFromTheRealSends() {
        RateLimit limit = new RateLimit(10, now::get, scheduler);
        join(limit, "a");
        join(limit, "b");
        join(limit, "c");
        // The event loop is busy: the timer due at 100 ms fires at 180 ms.
        Timer timer = timers.poll();
        now.addAndGet(180 * MS);
        timer.task.run();
        assertThat(sends).containsExactly("a@0", "b@180");
        advance(99 * MS);
        assertThat(sends).hasSize(2);
        advance(1 * MS);
        assertThat(sends).containsExactly("a@0", "b@180", "c@280");
    }
}
