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

import { availableParallelism } from "node:os";
import type autocannon from "autocannon";
import { serverNodeFlags } from "@/server/node-flags";
import {
  getVariantsPath,
  preassignVisitors,
  runningVisitorExperiments,
  trpcQueryPath,
  visitorCookie,
} from "./lib/api";
import { postgresCpuSeconds, treeCpuSeconds } from "./lib/cpu";
import { runInterleaved } from "./lib/interleave";
import {
  describeErrors,
  type LoadOptions,
  type LoadSummary,
  numberOption,
  runLoad,
  stringOption,
} from "./lib/load";
import { type BenchResult, report } from "./lib/report";
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
      buildResult({
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

function cpuCell(milliseconds: number | null): string {
  return milliseconds === null ? "n/a" : milliseconds.toFixed(2);
}

function buildResult(run: {
  slugs: string[];
  floor: LoadSummary;
  catalogOnly: LoadSummary;
  returning: LoadSummary;
  returningElsewhere: LoadSummary;
  newcomers: LoadSummary;
  pacedFloor: LoadSummary;
  pacedReturning: LoadSummary;
  pacedElsewhere: LoadSummary;
  pacedNew: LoadSummary;
  pace: { floor: number; returning: number; elsewhere: number; new: number };
  unexpected: number;
  postgres: string;
}): BenchResult {
  const { floor, returning, returningElsewhere, newcomers } = run;
  const { pacedFloor, pacedReturning, pacedElsewhere, pacedNew } = run;
  const ofFloor = (summary: LoadSummary) => summary.requestsPerSecond / floor.requestsPerSecond;
  const row = (summary: LoadSummary, statusNote = "") => [
    summary.label,
    Math.round(summary.requestsPerSecond),
    `${(ofFloor(summary) * 100).toFixed(0)}%`,
    summary.p50Ms,
    summary.p99Ms,
    `${summary.errors}${describeErrors(summary)}`,
    `${summary.non2xx}${statusNote}`,
    cpuCell(summary.appCpuMs),
    cpuCell(summary.databaseCpuMs),
  ];
  const failures = (summary: LoadSummary) => summary.errors + summary.non2xx;
  return {
    id: "http",
    title: "Assignment over HTTP",
    method:
      `Production build (\`next start\`) on PostgreSQL ${run.postgres} (a throwaway database with the demo seed), ` +
      `autocannon with ${connections} connections for ${durationSeconds} s per workload from the same machine, ` +
      `in ${rounds} turns of ${(durationSeconds / rounds).toFixed(1)} s each, the workloads taking turns (every workload sees the same phases of the machine). ` +
      `\`experiments.getVariants\` asks for the ${run.slugs.length} running visitor tests (${run.slugs.join(", ")}): ` +
      `returning visitors come from a pool of ${poolSize.toLocaleString("en")} assigned through the server beforehand (so it has served them: ` +
      `its sticky cache answers, \`ASSIGNMENT_CACHE_ENTRIES\`), or from ${ELSEWHERE_IDS.toLocaleString("en")} stored straight into the database as another instance would have, ` +
      `each asked for once (a sticky read from PostgreSQL); new visitors are a fresh id per request.`,
    columns: [
      "Workload",
      "Requests/s",
      "Of floor",
      "p50 (ms)",
      "p99 (ms)",
      "Errors",
      "Non-2xx",
      "App CPU/request (ms)",
      "PostgreSQL CPU/request (ms)",
    ],
    rows: [
      row(floor, " (404 by design)"),
      row(run.catalogOnly),
      row(returning),
      row(returningElsewhere),
      row(newcomers),
      row(pacedFloor, " (404 by design)"),
      row(pacedReturning),
      row(pacedElsewhere),
      row(pacedNew),
    ],
    ratios: [
      { label: "Returning (served here before) / floor", value: ofFloor(returning) },
      { label: "Returning (new to this instance) / floor", value: ofFloor(returningElsewhere) },
      { label: "New / floor", value: ofFloor(newcomers) },
    ],
    targets: [
      {
        label: "Returning visitors ≥ 70% of the floor, served here before (the instance's cache)",
        met: ofFloor(returning) >= 0.7 && failures(returning) === 0,
        detail: `${(ofFloor(returning) * 100).toFixed(0)}% (${failures(returning)} failed requests)`,
      },
      {
        label: "Returning visitors ≥ 70% of the floor, new to this instance (a PostgreSQL read)",
        met: ofFloor(returningElsewhere) >= 0.7 && failures(returningElsewhere) === 0,
        detail: `${(ofFloor(returningElsewhere) * 100).toFixed(0)}% (${failures(returningElsewhere)} failed requests)`,
      },
      {
        label: "New visitors ≥ 50% of the floor",
        met: ofFloor(newcomers) >= 0.5 && failures(newcomers) === 0,
        detail: `${(ofFloor(newcomers) * 100).toFixed(0)}% (${failures(newcomers)} failed requests)`,
      },
      {
        label: `p99 under 50 ms (${connections} connections paced at half of each workload's saturated rate: ${run.pace.returning}, ${run.pace.elsewhere} and ${run.pace.new} req/s)`,
        met:
          [pacedReturning, pacedElsewhere, pacedNew].every((paced) => paced.p99Ms < 50) &&
          failures(pacedReturning) + failures(pacedElsewhere) + failures(pacedNew) === 0,
        detail:
          `returning ${pacedReturning.p99Ms} ms (new to this instance ${pacedElsewhere.p99Ms} ms), new ${pacedNew.p99Ms} ms ` +
          `(${failures(pacedReturning) + failures(pacedElsewhere) + failures(pacedNew)} failed requests); the floor paced at half its rate: ${pacedFloor.p99Ms} ms; ` +
          `the load generator itself sent its requests late by p99 ${[pacedReturning, pacedElsewhere, pacedNew, pacedFloor].map((paced) => paced.sendLagP99Ms ?? "n/a").join(" / ")} ms (returning, new to this instance, new, floor), which those latencies include`,
      },
      {
        label: `p99 under 50 ms at saturation (${connections} connections as fast as they go)`,
        met: returning.p99Ms < 50 && returningElsewhere.p99Ms < 50 && newcomers.p99Ms < 50,
        detail:
          `returning ${returning.p99Ms} ms (new to this instance ${returningElsewhere.p99Ms} ms), new ${newcomers.p99Ms} ms; the floor itself: ${floor.p99Ms} ms ` +
          `(p50 ≈ ${connections} / ${Math.round(floor.requestsPerSecond)} req/s = ${Math.round((connections / floor.requestsPerSecond) * 1000)} ms by Little's law)`,
      },
      {
        label: "Every answer as expected (sticky for returning, assigned for new)",
        met: run.unexpected === 0,
        detail: `${run.unexpected} unexpected answers`,
      },
    ],
    notes: [
      "Run one after another, a workload could get a fast phase of the shared machine and the next one a slow one (their speed drifts by up to 2× within minutes), and the ratio would measure the machine. So the workloads take turns in short slices, each round in another order (rows of a balanced Latin square: each workload takes every position, and follows each other one, as evenly as the rounds allow, so none always inherits the garbage collections of the one before it), and every figure pools all of a workload's slices (latency percentiles over every answer).",
      "The floor is `/ingest/*` with PostHog off: a route handler that answers 404 without any I/O, through the same App Router dispatch as the API (neither passes proxy.ts, which sets the visitor cookie on pages). The repository has no health route, and a static file or Next's 404 page would skip (or add) work the API does.",
      `The server runs as \`npm start\` runs it, with ${
        serverNodeFlags(availableParallelism(), process.env.NODE_OPTIONS)
          .map((flag) => `\`${flag}\``)
          .join(" ") || "the operator's NODE_OPTIONS"
      } (src/server/node-flags.ts): V8's garbage-collection helper threads leave a core to the request thread. Next.js keeps most of each request's objects past the minor collections, so a major collection comes every 15-20 s at these rates; with V8's default 4 helpers on 2 cores it held requests for 80-170 ms, which is most of the tail the p99 rows show.`,
      "Load generator, Next.js and PostgreSQL share the machine's cores, so absolute figures depend on it; the ratios to the floor and the CPU time per request (from /proc: the app's process tree, and the database's backends) are the comparable parts.",
      "The paced runs are open-loop (bench/lib/paced.ts): a request starts every 1/rate s over at most 50 keep-alive connections, answered or not, and its latency counts from when it was due, so a request the load generator itself sent late (its timer or event loop held up by the shared machine) counts as late too: the p99 target's detail gives that send lag. autocannon's own `overallRate` sends each connection's share of a second back to back as the second begins, so its latencies measure a burst of a whole second's requests.",
    ],
  };
}

await main();
