// The HTTP benchmark's report (bench/http.ts): its table, ratios to the floor, targets and notes.
import { availableParallelism } from "node:os";
import { serverNodeFlags } from "@/server/node-flags";
import { describeErrors, type LoadSummary } from "./load";
import type { BenchResult } from "./report";

function cpuCell(milliseconds: number | null): string {
  return milliseconds === null ? "n/a" : milliseconds.toFixed(2);
}

export function httpBenchResult(run: {
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
  /** How the run was made, as the method and targets describe it. */
  setup: {
    connections: number;
    durationSeconds: number;
    rounds: number;
    poolSize: number;
    elsewhereIds: number;
  };
}): BenchResult {
  const { floor, returning, returningElsewhere, newcomers } = run;
  const { connections, durationSeconds, rounds, poolSize, elsewhereIds } = run.setup;
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
      `its sticky cache answers, \`ASSIGNMENT_CACHE_ENTRIES\`), or from ${elsewhereIds.toLocaleString("en")} stored straight into the database as another instance would have, ` +
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
          `the load generator itself sent its requests late by p99 ${[pacedReturning, pacedElsewhere, pacedNew, pacedFloor].map((paced) => paced.sendLagP99Ms ?? "n/a").join(" / ")} ms (returning, new to this instance, new, floor), which those latencies include. ` +
          `Each turn's own p99 (ms): ${(
            [
              ["returning", pacedReturning],
              ["new to this instance", pacedElsewhere],
              ["new", pacedNew],
              ["floor", pacedFloor],
            ] as const
          )
            .map(([name, paced]) => `${name} ${paced.sliceP99Ms.join(" / ")}`)
            .join("; ")}`,
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
      } (src/server/node-flags.ts): V8's garbage-collection helper threads leave a core to the request thread. Next.js keeps most of each request's objects past the minor collections, so a major collection comes every 10-20 s at these rates; with V8's default 4 helpers on 2 cores it held requests for 80-170 ms, which is most of the tail the p99 rows show. With a garbage-collection observer in the server (new visitors paced at 650 req/s for 30 s, on their own), every cluster of requests over 40 ms began within 30 ms of a major collection, and the old generation grew by about 35 kB a request between them, with 4 client connections or 50 alike and with a 64 MB young generation (\`--max-semi-space-size\`) as with the default: the turns' own p99 in the target's detail show whether such a stall fell into a turn. Requests take the client's abort signal as their own (\`REQUEST_SIGNAL=${process.env.REQUEST_SIGNAL || "following"}\`, src/server/request-signal.ts): with Node's own finalization registry each major collection marked for 45-64 ms on the request thread instead of 32-40 ms (\`--trace-gc\`, one run each way).`,
      "Load generator, Next.js and PostgreSQL share the machine's cores, so absolute figures depend on it; the ratios to the floor and the CPU time per request (from /proc: the app's process tree, and the database's backends) are the comparable parts.",
      "The paced runs are open-loop (bench/lib/paced.ts): a request starts every 1/rate s over at most 50 keep-alive connections, answered or not, and its latency counts from when it was due, so a request the load generator itself sent late (its timer or event loop held up by the shared machine) counts as late too: the p99 target's detail gives that send lag. autocannon's own `overallRate` sends each connection's share of a second back to back as the second begins, so its latencies measure a burst of a whole second's requests.",
    ],
  };
}
