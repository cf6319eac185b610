// Benchmark 1c: event ingest. Conversions in batches through `POST /api/events` (what the browser
// tracker beacons) into the outbox, and by the dispatcher on to a loopback PostHog capture server;
// after the load, the outbox must drain with every accepted event delivered exactly once.
//
//   flock /tmp/e2e.lock npx tsx bench/ingest.ts [--duration 60] [--connections 20] [--batch 50]
//                                               [--pool 2000] [--in-app | --worker] [--worker-concurrency 4]
//                                               [--claim 1000] [--offered 10000] [--open-loop-only]
//
// By default it runs three times, each time on a fresh database: as fast as the connections go with
// the dispatcher inside the server, then as `npm run events:dispatch` beside a server with
// EVENTS_DISPATCHER off (what docs/DEPLOYMENT.md advises at volume); then that worker again with
// the events offered at the target's rate on a fixed schedule (an open loop): whether the outbox
// keeps up with a steady 10,000 events/s rather than how much a saturated server takes in.
// `--in-app` or `--worker` runs one of the first two, `--open-loop-only` the third. It uses `.next`
// like bench/http.ts (hold the e2e lock).
import type autocannon from "autocannon";
import { parseExperimentConfig } from "@/features/experiments/core/config";
import { eventUuid } from "@/features/experiments/core/events";
import { parseEnv } from "@/server/env";
import { preassignVisitors, visitorCookie } from "./lib/api";
import { CaptureProcess } from "./lib/capture-process";
import { cpuMeter, postgresCpuSeconds, treeCpuSeconds } from "./lib/cpu";
import { type IngestRun, ingestResult } from "./lib/ingest-report";
import { numberOption, runLoad, stringOption } from "./lib/load";
import { report } from "./lib/report";
import { seededUuids } from "./lib/seeded-ids";
import {
  type AppServer,
  analyze,
  createThrowawayDatabase,
  ensureBuild,
  onExit,
  openDatabase,
  seedDemo,
  startApp,
  startDispatcherWorker,
} from "./lib/server";

const PORT = 3311;
const durationSeconds = numberOption("duration", 60);
const connections = numberOption("connections", 20);
const batchSize = numberOption("batch", 50);
const poolSize = numberOption("pool", 2_000);
/** EVENTS_DISPATCH_CONCURRENCY of the separate worker (the server's dispatcher keeps its default). */
const workerConcurrency = numberOption("worker-concurrency", 4);
/** The app's own defaults, for the in-app dispatcher's concurrency and every claim's size. */
const defaults = parseEnv({});
/** EVENTS_DISPATCH_BATCH_SIZE of both placements. */
const claimSize = numberOption("claim", defaults.EVENTS_DISPATCH_BATCH_SIZE);
/** Events per second the open-loop run offers, in batches of `batch` on a fixed schedule. */
const offeredEventsPerSecond = numberOption("offered", 10_000);
const appDir = stringOption("app-dir") ?? process.cwd();
/** Every key of this run starts with it, so the checks count only this run's events. */
const RUN_TAG = `bench-${process.pid}`;
const BENCH_RATE_LIMIT = "100000000";

/** The first running visitor experiment that counts conversions, and one of its events. */
async function conversionTarget(databaseUrl: string): Promise<{ slug: string; event: string }> {
  const handle = openDatabase(databaseUrl, 1);
  try {
    const features = await handle.db.feature.findMany({
      where: { type: "EXPERIMENT" },
      select: { slug: true, metadata: true },
      orderBy: { slug: "asc" },
    });
    for (const feature of features) {
      const config = parseExperimentConfig(feature.slug, feature.metadata);
      const [event] = config.conversionEvents;
      if (config.scope === "visitor" && config.status === "running" && event)
        return { slug: feature.slug, event };
    }
    throw new Error("the seeded database has no running visitor experiment with a conversion event");
  } finally {
    await handle.close();
  }
}

/** Batches of conversions, each request for the next visitor of the pool and with fresh keys. */
function conversionRequests(pool: string[], target: { slug: string; event: string }) {
  const tally = { recorded: 0, rejected: 0, sent: 0 };
  let nextVisitor = 0;
  let nextKey = 0;
  const requests: autocannon.Request[] = [
    {
      method: "POST",
      path: "/api/events",
      setupRequest: (request) => {
        const visitorId = pool[nextVisitor++ % pool.length] as string;
        const events = Array.from({ length: batchSize }, () => {
          const key = nextKey++;
          return {
            type: "conversion",
            slug: target.slug,
            event: target.event,
            idempotencyKey: `${RUN_TAG}-${key}`,
            properties: { value: key % 100, plan: "pro" },
          };
        });
        tally.sent += events.length;
        return {
          ...request,
          // As a beacon sends it: text, with the visitor's cookies (consent given).
          headers: {
            "content-type": "text/plain;charset=UTF-8",
            ...visitorCookie(visitorId, "verdict_consent=granted"),
          },
          body: JSON.stringify({ events }),
        };
      },
      onResponse: (status, body) => {
        if (status !== 200) return;
        for (const outcome of (JSON.parse(body) as { outcomes: string[] }).outcomes) {
          if (outcome === "recorded") tally.recorded += 1;
          else tally.rejected += 1;
        }
      },
    },
  ];
  return { requests, tally };
}

async function countStored(databaseUrl: string): Promise<number> {
  const handle = openDatabase(databaseUrl, 1);
  try {
    return await handle.db.event.count({
      where: { idempotencyKey: { startsWith: `conversion:${RUN_TAG}-` } },
    });
  } finally {
    await handle.close();
  }
}

/** Waits until the outbox has nothing pending and every accepted event has arrived (or time runs out). */
async function drain(databaseUrl: string, capture: CaptureProcess, accepted: number, timeoutMs: number) {
  const handle = openDatabase(databaseUrl, 1);
  const started = Date.now();
  try {
    for (;;) {
      const pending = await handle.db.event.count({ where: { deliveryStatus: "PENDING" } });
      if ((pending === 0 && (await capture.unique()) >= accepted) || Date.now() - started > timeoutMs) {
        return { seconds: (Date.now() - started) / 1000, pending };
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await handle.close();
  }
}

/** Every event of this run the outbox holds, against what the capture server received. */
async function reconcile(databaseUrl: string, capture: CaptureProcess) {
  const handle = openDatabase(databaseUrl, 1);
  try {
    const stored = await handle.db.event.findMany({
      where: { idempotencyKey: { startsWith: `conversion:${RUN_TAG}-` } },
      select: { idempotencyKey: true, deliveryStatus: true },
    });
    const expected = new Set(stored.map((row) => eventUuid(row.idempotencyKey)));
    const { arrivals, duplicates } = await capture.arrivals();
    let lost = 0;
    for (const uuid of expected) if (!arrivals.has(uuid)) lost += 1;
    let unexpected = 0;
    for (const uuid of arrivals.keys()) if (!expected.has(uuid)) unexpected += 1;
    const undelivered = stored.filter((row) => row.deliveryStatus !== "DELIVERED").length;
    return { stored: stored.length, lost, unexpected, undelivered, duplicates };
  } finally {
    await handle.close();
  }
}

type Dispatcher = IngestRun["dispatcher"];
/** Where the dispatcher runs, and the events per second offered (null: as fast as the load goes). */
type Scenario = { dispatcher: Dispatcher; offered: number | null };

/** Both placements saturated, then the worker at the offered rate, unless one is asked for. */
function scenarios(): Scenario[] {
  const openLoop: Scenario = { dispatcher: "worker", offered: offeredEventsPerSecond };
  if (process.argv.includes("--open-loop-only")) return [openLoop];
  if (process.argv.includes("--worker")) return [{ dispatcher: "worker", offered: null }];
  if (process.argv.includes("--in-app")) return [{ dispatcher: "in-app", offered: null }];
  return [{ dispatcher: "in-app", offered: null }, { dispatcher: "worker", offered: null }, openLoop];
}

/** Outbox rows still waiting for the dispatcher. */
async function countPending(databaseUrl: string): Promise<number> {
  const handle = openDatabase(databaseUrl, 1);
  try {
    return await handle.db.event.count({ where: { deliveryStatus: "PENDING" } });
  } finally {
    await handle.close();
  }
}

/** One load on a fresh database, server and capture server, with the dispatcher placed as asked. */
async function runScenario({ dispatcher, offered }: Scenario): Promise<IngestRun> {
  const separateWorker = dispatcher === "worker";
  console.log(
    `\n— ingest with the dispatcher ${separateWorker ? "as a separate worker" : "inside the server"}` +
      (offered ? `, ${offered.toLocaleString("en")} events/s offered` : ""),
  );
  const capture = await CaptureProcess.start();
  const database = await createThrowawayDatabase();
  const processes: AppServer[] = [];
  const cleanup = onExit(async () => {
    for (const started of processes.reverse()) await started.stop();
    await capture.stop();
    await database.drop();
  });
  try {
    await seedDemo(database.url, appDir);
    const env = {
      EVENTS_DISPATCHER: separateWorker ? "off" : "in-app",
      POSTHOG_API_KEY: "phc_bench",
      POSTHOG_HOST: capture.url,
      RATE_LIMIT_ASSIGNMENTS_PER_MINUTE: BENCH_RATE_LIMIT,
      RATE_LIMIT_EVENTS_PER_MINUTE: BENCH_RATE_LIMIT,
      EVENTS_DISPATCH_BATCH_SIZE: String(claimSize),
      ...(separateWorker ? { EVENTS_DISPATCH_CONCURRENCY: String(workerConcurrency) } : {}),
    };
    const server = await startApp({ port: PORT, databaseUrl: database.url, appDir, env });
    processes.push(server);
    const worker = separateWorker ? startDispatcherWorker({ databaseUrl: database.url, appDir, env }) : null;
    if (worker) processes.push(worker);

    const target = await conversionTarget(database.url);
    const pool = seededUuids(poolSize, 31_337);
    await preassignVisitors(server.url, pool, [target.slug]);
    await analyze(database.url);

    const { requests, tally } = conversionRequests(pool, target);
    const deliveredBefore = await capture.unique();
    const workerCpu = cpuMeter(() => (worker ? treeCpuSeconds(worker.pid) : 0));
    // The open loop's requests wait for no answer before the next is due: enough sockets that one
    // slow answer never holds up the schedule.
    const loadConnections = offered ? Math.max(connections, 50) : connections;
    const load = await runLoad({
      label: `ingest (${dispatcher}${offered ? `, ${offered} events/s offered` : ""})`,
      url: server.url,
      connections: loadConnections,
      durationSeconds,
      requests,
      overallRate: offered ? offered / batchSize : undefined,
      cpu: { app: () => treeCpuSeconds(server.pid), database: () => postgresCpuSeconds(database.name) },
    });
    const workerCpuSeconds = workerCpu();
    const deliveredDuringLoad = (await capture.unique()) - deliveredBefore;
    const pendingAtEnd = await countPending(database.url);
    // Requests still in flight when the load stopped are committed but never answered: give them
    // a moment, then let the database, not the answers, say what was accepted.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const accepted = await countStored(database.url);
    // Long enough for the slowest placement's backlog: a deadline that cuts the drain short
    // leaves its last batch delivered but not yet marked, which would read as a loss.
    const drained = await drain(database.url, capture, accepted, Math.max(300_000, durationSeconds * 6000));
    const checks = await reconcile(database.url, capture);
    return {
      durationSeconds: load.durationSeconds,
      connections: loadConnections,
      batchSize,
      poolSize,
      dispatcher,
      offeredPerSecond: offered,
      pendingAtEnd,
      dispatchConcurrency: separateWorker ? workerConcurrency : defaults.EVENTS_DISPATCH_CONCURRENCY,
      claimSize,
      target,
      load,
      sent: tally.sent,
      accepted,
      answeredRecorded: tally.recorded,
      rejected: tally.rejected,
      deliveredDuringLoad,
      workerCpuSeconds,
      drainSeconds: drained.seconds,
      pendingAfterDrain: drained.pending,
      ...checks,
    };
  } catch (error) {
    for (const started of processes) console.error(started.output().slice(-4000));
    throw error;
  } finally {
    await cleanup();
  }
}

async function main() {
  await ensureBuild(appDir);
  const runs: IngestRun[] = [];
  for (const scenario of scenarios()) runs.push(await runScenario(scenario));
  report(ingestResult(runs));
}

await main();
