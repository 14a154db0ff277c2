// The benchmark's driver for the PostgreSQL job queues shieldpool is compared with (issue 17):
// graphile-worker and pg-boss, each through its own public API, against the server the
// benchmark started. The Java side (PgBench) times everything from the database, so this script
// only enqueues, or works until it is killed.
//
//   node peer.mjs SYSTEM enqueue URL N [expire-seconds]
//       installs SYSTEM's schema and enqueues N jobs of the task "noop" (1,000 per call);
//       prints "enqueued N".
//   node peer.mjs SYSTEM work URL PROFILE CONCURRENCY STEP_MS [expire-seconds]
//       prepares a worker, prints "prepared", waits for a line on stdin, starts working and prints
//       "started"; each job waits STEP_MS (0: none) and succeeds. Runs until SIGTERM or SIGKILL.
//       A line "pause" then stops the worker (graphile: runner.stop(); pg-boss: offWork) and prints
//       "paused"; the next "go" starts it again in the same process (its JIT warm) and prints
//       "started": the benchmark's second rounds, as shieldpool's nodes are resized to 0 and back.
//       pg-boss with expire-seconds > 0 (the queue was created with that expireInSeconds) also
//       supervises every second (superviseIntervalSeconds 1; the default, 60 s, is what finds
//       expired jobs).
//
// SYSTEM graphile: PROFILE defaults   = concurrentJobs CONCURRENCY, maxPoolSize CONCURRENCY + 1,
//                                       everything else as shipped (no local queue, one
//                                       completion per job);
//                  PROFILE throughput = the same plus the batching of graphile-worker's
//                                       performance page: localQueue.size 500,
//                                       completeJobBatchDelay 0, failJobBatchDelay 0.
// SYSTEM pgboss:   PROFILE batch10 / batch50 = one work() worker, batchSize 10 or 50, with
//                                       burstWhenBatchFull (without it the worker sleeps the 2 s
//                                       polling interval after every batch); the batch's jobs
//                                       run at once; CONCURRENCY is ignored.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const [system, command, url, ...rest] = process.argv.slice(2);
const TASK = 'noop';

function quietGraphileLogger(Logger) {
  // why: graphile-worker logs every completed job at info; printing 20,000 lines would measure the console.
  return new Logger(scope => (level, message) => {
    if (level === 'error' || level === 'warning') {
      console.error(`graphile-worker ${level}: ${message}`);
    }
  });
}

/** The lines of stdin, one per next() ({ done: true } once it is closed). */
function stdinLines() {
  return createInterface({ input: process.stdin })[Symbol.asyncIterator]();
}

/**
 * Prints "prepared", then for each "go" on stdin runs start() (which resolves to its stop
 * function) and prints "started"; a "pause" runs that stop and prints "paused". With stdin
 * closed while working, works on until the process is killed.
 */
async function rounds(start) {
  const lines = stdinLines();
  console.log('prepared');
  while (true) {
    const go = await lines.next();
    if (go.done) {
      return;
    }
    const stop = await start();
    console.log('started');
    const next = await lines.next();
    if (next.done) {
      await new Promise(() => {});
    }
    await stop();
    console.log('paused');
  }
}

async function graphileEnqueue(n) {
  const { makeWorkerUtils, Logger } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietGraphileLogger(Logger) });
  await utils.migrate();
  for (let i = 0; i < n; i += 1000) {
    const specs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      specs.push({ identifier: TASK, payload: { n: j } });
    }
    await utils.addJobs(specs);
  }
  await utils.release();
}

async function graphileWork(profile, concurrency, stepMs) {
  const { run, Logger } = await import('graphile-worker');
  const worker = profile === 'throughput'
    ? { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
    : {};
  await rounds(async () => {
    const runner = await run({
      connectionString: url,
      concurrency,
      maxPoolSize: concurrency + 1,
      logger: quietGraphileLogger(Logger),
      taskList: { [TASK]: async () => { if (stepMs > 0) await sleep(stepMs); } },
      preset: { worker },
    });
    return () => runner.stop();
  });
}

async function pgBoss(superviseSeconds = 0) {
  const { PgBoss } = await import('pg-boss');
  const boss = new PgBoss(superviseSeconds > 0 ? { connectionString: url, superviseIntervalSeconds: superviseSeconds }
    : { connectionString: url });
  boss.on('error', e => console.error(`pg-boss error: ${e.message}`));
  await boss.start();
  return boss;
}

async function pgBossEnqueue(n, expireSeconds) {
  const boss = await pgBoss();
  const options = expireSeconds > 0 ? { expireInSeconds: expireSeconds } : {};
  await boss.createQueue(TASK, options);
  for (let i = 0; i < n; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      jobs.push({ data: { n: j } });
    }
    await boss.insert(TASK, jobs);
  }
  await boss.stop({ graceful: true, close: true });
}

async function pgBossWork(profile, stepMs, expireSeconds) {
  const batchSize = profile === 'batch50' ? 50 : 10;
  const boss = await pgBoss(expireSeconds > 0 ? 1 : 0);
  const stop = () => boss.stop({ graceful: false, close: true }).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  await rounds(async () => {
    await boss.work(TASK, { batchSize, burstWhenBatchFull: true }, async jobs => {
      if (stepMs > 0) {
        await Promise.all(jobs.map(() => sleep(stepMs)));
      }
    });
    return () => boss.offWork(TASK);
  });
  await new Promise(() => {});
}

if (system === 'graphile' && command === 'enqueue') {
  await graphileEnqueue(Number(rest[0]));
} else if (system === 'graphile' && command === 'work') {
  await graphileWork(rest[0], Number(rest[1]), Number(rest[2]));
} else if (system === 'pgboss' && command === 'enqueue') {
  await pgBossEnqueue(Number(rest[0]), Number(rest[1] ?? 0));
} else if (system === 'pgboss' && command === 'work') {
  await pgBossWork(rest[0], Number(rest[2]), Number(rest[3] ?? 0));
} else {
  console.error(`usage: node peer.mjs graphile|pgboss enqueue URL N [expire-seconds] | work URL PROFILE CONCURRENCY STEP_MS (got: ${process.argv.slice(2).join(' ')})`);
  process.exit(64);
}
if (command === 'enqueue') {
  console.log(`enqueued ${rest[0]}`);
  process.exit(0);
}
