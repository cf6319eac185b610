// Benchmark 1b: assignment over HTTP. The production build on a throwaway PostgreSQL database,
// `experiments.getVariants` for returning visitors (sticky reads) and new visitors (inserts),
// against a trivial route of the same server as the framework's floor.
//
//   flock /tmp/e2e.lock npx tsx bench/http.ts [--duration 20] [--connections 50] [--pool 10000] [--rounds 4]
//
// The workloads take turns (lib/interleave.ts): each gets its 20 s as slices between the others',
// so the floor and Verdict see the same phases of a shared machine and their ratio holds.
//
// It uses `.next` (building it first when missing): on a shared machine hold the e2e lock for the
// whole run, as above. `--app-dir` serves another checkout's build (while developing).

import type autocannon from "autocannon";
import {
  getVariantsPath,
  preassignVisitors,
  runningVisitorExperiments,
  trpcQueryPath,
  visitorCookie,
} from "./lib/api";
import { postgresCpuSeconds, treeCpuSeconds } from "./lib/cpu";
import { httpBenchResult } from "./lib/http-report";
import { runInterleaved } from "./lib/interleave";
import { type LoadOptions, type LoadSummary, numberOption, runLoad, stringOption } from "./lib/load";
import { report } from "./lib/report";
import { seededUuids } from "./lib/seeded-ids";
import {
  analyze,
  createThrowawayDatabase,
  ensureBuild,
  onExit,
  openDatabase,
  seedDemo,
  startApp,
  storeAssignmentsElsewhere,
} from "./lib/server";

const PORT = 3310;
/** New-visitor ids generated up front: several times what 20 s of the fastest run asks for. */
const FRESH_IDS = 400_000;
/**
 * Returning visitors the server has never served (stored by "another instance"), each asked for
 * once: more than the warm-up, 20 s saturated and 20 s paced of the fastest run take.
 */
const ELSEWHERE_IDS = 120_000;
const durationSeconds = numberOption("duration", 20);
const connections = numberOption("connections", 50);
/** Turns each workload gets (see lib/interleave.ts): 20 s as four slices of 5 s. */
const rounds = Math.round(numberOption("rounds", 4));
const WARM_UP_SECONDS = 2;
/** The paced workloads' rate, as a share of what the same workload did saturated. */
const PACED_SHARE = 0.5;
const poolSize = numberOption("pool", 10_000);
const appDir = stringOption("app-dir") ?? process.cwd();

/** A high ceiling instead of switching limits off: the code path stays the production one. */
const BENCH_RATE_LIMIT = "100000000";

/** Hands out the ids of `ids` in turn, wrapping around. */
function inTurn(ids: string[]): () => string {
  let next = 0;
  return () => ids[next++ % ids.length] as string;
}

/** Requests that each take the next visitor id, counted across all connections. */
function cycling(nextId: () => string, build: (id: string) => { path: string }): autocannon.Request[] {
  return [
    {
      method: "GET",
      setupRequest: (request) => {
        const id = nextId();
        return { ...request, ...build(id), headers: { ...request.headers, ...visitorCookie(id) } };
      },
    },
  ];
}

/** Counts answers that are not what the workload must produce (a returning visitor newly assigned, say). */
function checking(requests: autocannon.Request[], isExpected: (body: string) => boolean) {
  const tally = { unexpected: 0 };
  const [first] = requests;
  const checked = [
    {
      ...first,
      onResponse: (status: number, body: string) => {
        if (status === 200 && !isExpected(body)) tally.unexpected += 1;
      },
    },
  ];
  return { requests: checked, tally };
}

async function main() {
  await ensureBuild(appDir);
  const database = await createThrowawayDatabase();
  let server: Awaited<ReturnType<typeof startApp>> | undefined;
  const cleanup = onExit(async () => {
    await server?.stop();
    await database.drop();
  });
  try {
    await seedDemo(database.url, appDir);
    const started = await startApp({
      port: PORT,
      databaseUrl: database.url,
      appDir,
      env: {
        EVENTS_DISPATCHER: "off",
        // The floor route answers without I/O only while PostHog is off.
        POSTHOG_API_KEY: "",
        RATE_LIMIT_ASSIGNMENTS_PER_MINUTE: BENCH_RATE_LIMIT,
        RATE_LIMIT_EVENTS_PER_MINUTE: BENCH_RATE_LIMIT,
      },
    });
    server = started;
    const url = server.url;

    const slugs = await runningVisitorExperiments(url);
    if (!slugs.length) throw new Error("the seeded database has no running visitor experiment");

    const pool = seededUuids(poolSize, 20_261_124);
    // New visitors: ids no request has used, more than a run can take.
    const fresh = onceEach(seededUuids(FRESH_IDS, 77_123_457), "FRESH_IDS");
    const elsewhereIds = seededUuids(ELSEWHERE_IDS, 31_415_927);
    const elsewhere = onceEach(elsewhereIds, "ELSEWHERE_IDS");
    const getVariants = (visitorId: string) => ({ path: getVariantsPath(visitorId, slugs) });
    const cpu = {
      app: () => treeCpuSeconds(started.pid),
      database: () => postgresCpuSeconds(database.name),
    };
    const base = { url, connections, cpu };
    const measured = { ...base, durationSeconds };

    await preassignVisitors(url, pool, slugs);
    const stored = await countAssignments(database.url, slugs, pool);
    if (stored !== pool.length * slugs.length) {
      throw new Error(
        `pre-assigning failed: ${stored} rows for ${pool.length} visitors × ${slugs.length} tests`,
      );
    }
    await storeAssignmentsElsewhere(database.url, elsewhereIds, slugs);
    await analyze(database.url);

    const isSticky = (body: string) =>
      body.includes('"reason":"sticky"') && !body.includes('"reason":"assigned"');
    const returningCheck = checking(cycling(inTurn(pool), getVariants), isSticky);
    const elsewhereCheck = checking(cycling(elsewhere, getVariants), isSticky);
    const newCheck = checking(
      cycling(fresh, getVariants),
      (body) => body.includes('"reason":"assigned"') && !body.includes('"reason":"sticky"'),
    );
    const saturatedWorkloads: LoadOptions[] = [
      { ...measured, label: "Floor: trivial route handler", requests: cycling(inTurn(pool), floorPath) },
      {
        ...measured,
        label: "tRPC without the database (listActiveExperiments)",
        requests: cycling(inTurn(pool), () => ({ path: trpcQueryPath("experiments.listActiveExperiments") })),
      },
      {
        ...measured,
        label: "getVariants, returning visitors (served here before: the instance's cache)",
        requests: returningCheck.requests,
      },
      {
        ...measured,
        label: "getVariants, returning visitors new to this instance (sticky read from PostgreSQL)",
        requests: elsewhereCheck.requests,
      },
      { ...measured, label: "getVariants, new visitors (insert)", requests: newCheck.requests },
    ];

    // Warm-up, not measured: the JIT and the pools, on every code path the runs take.
    for (const workload of saturatedWorkloads) {
      await runLoad({ ...workload, label: `warm-up: ${workload.label}`, durationSeconds: WARM_UP_SECONDS });
    }
    for (const check of [returningCheck, elsewhereCheck, newCheck]) check.tally.unexpected = 0;

    const [floor, catalogOnly, returning, returningElsewhere, newcomers] = (await runInterleaved(
      saturatedWorkloads,
      { rounds },
    )) as [LoadSummary, LoadSummary, LoadSummary, LoadSummary, LoadSummary];

    // Saturated, 50 closed-loop connections make latency = connections / throughput (Little's
    // law), whatever the code does. The same 50 connections paced at half of what the workload
    // itself managed saturated (the machine half busy) show the latency a request itself takes.
    const pace = {
      floor: Math.max(1, Math.round(floor.requestsPerSecond * PACED_SHARE)),
      returning: Math.max(1, Math.round(returning.requestsPerSecond * PACED_SHARE)),
      elsewhere: Math.max(1, Math.round(returningElsewhere.requestsPerSecond * PACED_SHARE)),
      new: Math.max(1, Math.round(newcomers.requestsPerSecond * PACED_SHARE)),
    };
    // The floor paced too: what the framework and the machine add to the tail without Verdict.
    const [pacedFloor, pacedReturning, pacedElsewhere, pacedNew] = (await runInterleaved(
      [
        {
          ...measured,
          overallRate: pace.floor,
          label: `Floor, paced at ${pace.floor} req/s`,
          requests: cycling(inTurn(pool), floorPath),
        },
        {
          ...measured,
          overallRate: pace.returning,
          label: `getVariants, returning visitors, paced at ${pace.returning} req/s`,
          requests: cycling(inTurn(pool), getVariants),
        },
        {
          ...measured,
          overallRate: pace.elsewhere,
          label: `getVariants, returning visitors new to this instance, paced at ${pace.elsewhere} req/s`,
          requests: cycling(elsewhere, getVariants),
        },
        {
          ...measured,
          overallRate: pace.new,
          label: `getVariants, new visitors, paced at ${pace.new} req/s`,
          requests: cycling(fresh, getVariants),
        },
      ],
      { rounds },
    )) as [LoadSummary, LoadSummary, LoadSummary, LoadSummary];

    report(
      httpBenchResult({
        slugs,
        floor,
        catalogOnly,
        returning,
        returningElsewhere,
        newcomers,
        pacedFloor,
        pacedReturning,
        pacedElsewhere,
        pacedNew,
        pace,
        unexpected:
          returningCheck.tally.unexpected + elsewhereCheck.tally.unexpected + newCheck.tally.unexpected,
        postgres: await serverVersion(database.url),
        setup: { connections, durationSeconds, rounds, poolSize, elsewhereIds: ELSEWHERE_IDS },
      }),
    );
  } catch (error) {
    if (server) console.error(server.output().slice(-4000));
    throw error;
  } finally {
    await cleanup();
  }
}

/**
 * The floor: `/ingest/*` with PostHog off answers 404 from its route handler without any I/O,
 * through the same App Router dispatch as `/api/trpc/*` (neither passes proxy.ts, which sets the
 * visitor cookie on pages). The repository
 * has no health route, and a static file or Next's own 404 page would skip (or add) work the API
 * does not.
 */
function floorPath(): { path: string } {
  return { path: "/ingest/bench-floor" };
}

/** Hands out each id once; running out means the constant named `name` is too small. */
function onceEach(ids: string[], name: string): () => string {
  let used = 0;
  return () => {
    if (used >= ids.length) throw new Error(`ran out of visitor ids: raise ${name}`);
    return ids[used++] as string;
  };
}

async function countAssignments(url: string, slugs: string[], visitors: string[]): Promise<number> {
  const handle = openDatabase(url, 1);
  try {
    return await handle.db.experimentVariant.count({
      where: { experimentSlug: { in: slugs }, visitorId: { in: visitors } },
    });
  } finally {
    await handle.close();
  }
}

async function serverVersion(url: string): Promise<string> {
  const handle = openDatabase(url, 1);
  try {
    const [row] = await handle.db.$queryRaw<{ server_version: string }[]>`SHOW server_version`;
    return row?.server_version ?? "unknown";
  } finally {
    await handle.close();
  }
}

await main();
