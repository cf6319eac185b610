import { availableParallelism } from "node:os";
import type { LoadSummary } from "./load";
import type { BenchResult } from "./report";

/** What one ingest run measured and found (bench/ingest.ts). */
export type IngestRun = {
  durationSeconds: number;
  connections: number;
  batchSize: number;
  poolSize: number;
  dispatcher: "in-app" | "worker";
  /** Events per second offered on a fixed schedule (an open loop); null: as fast as the load went. */
  offeredPerSecond: number | null;
  /** Outbox rows pending the moment the load stopped: what the dispatcher had not caught up on. */
  pendingAtEnd: number;
  /** EVENTS_DISPATCH_CONCURRENCY: batches the dispatcher has in flight at once. */
  dispatchConcurrency: number;
  /** EVENTS_DISPATCH_BATCH_SIZE: events one claim takes and delivers. */
  claimSize: number;
  target: { slug: string; event: string };
  load: LoadSummary;
  sent: number;
  /** This run's events committed to the outbox (counted in the database after the load). */
  accepted: number;
  /** Events the API answered "recorded" for (requests cut off at the end were committed unanswered). */
  answeredRecorded: number;
  rejected: number;
  deliveredDuringLoad: number;
  /** CPU seconds the separate dispatcher used during the load (0 in-app, null: unknown). */
  workerCpuSeconds: number | null;
  drainSeconds: number;
  pendingAfterDrain: number;
  /** This run's events in the database. */
  stored: number;
  /** Stored events whose uuid never reached the capture server. */
  lost: number;
  /** Uuids the capture server received that no stored event has. */
  unexpected: number;
  undelivered: number;
  duplicates: { uuids: number; extraCopies: number };
};

/** The replaced system's claim (issue 8): 5,000 events/s, in memory. */
const REPLACED_SYSTEM_EVENTS_PER_SECOND = 5_000;
const TARGET_EVENTS_PER_SECOND = 10_000;

const PLACEMENT: Record<IngestRun["dispatcher"], string> = {
  "in-app": "Dispatcher inside the server",
  worker: "Dispatcher as a worker (`npm run events:dispatch`)",
};

/** The run's column: where the dispatcher ran, and at what rate the events came when one was set. */
function runLabel(run: IngestRun): string {
  const placement = PLACEMENT[run.dispatcher];
  return run.offeredPerSecond === null
    ? placement
    : `${placement}, ${run.offeredPerSecond.toLocaleString("en")} events/s offered`;
}

/**
 * An open-loop run keeps up when every offered event was taken in and the backlog the load left
 * behind was at most one second of the offered rate.
 */
function keptUp(run: IngestRun): boolean {
  if (run.offeredPerSecond === null) return false;
  const offered = Math.round(run.offeredPerSecond * run.durationSeconds);
  return (
    run.accepted >= 0.99 * offered &&
    run.load.errors + run.load.non2xx === 0 &&
    run.pendingAtEnd <= run.offeredPerSecond
  );
}

/** What one run's figures come to: rates per second and CPU per event. */
function figures(run: IngestRun) {
  const perSecond = (events: number) => events / run.durationSeconds;
  const perEvent = (ms: number | null) =>
    ms === null ? null : (ms * 1000 * run.load.requests) / Math.max(1, run.sent);
  const acceptedPerSecond = perSecond(run.accepted);
  const deliveredPerSecond = perSecond(run.deliveredDuringLoad);
  const server = perEvent(run.load.appCpuMs);
  const database = perEvent(run.load.databaseCpuMs);
  // The worker's work is delivering: per event it delivered during the load (the server's and the
  // database's are per event sent, most of their work being to take events in).
  const worker =
    run.workerCpuSeconds === null
      ? null
      : (run.workerCpuSeconds * 1e6) / Math.max(1, run.deliveredDuringLoad);
  const total = server === null || database === null || worker === null ? null : server + database + worker;
  return {
    acceptedPerSecond,
    deliveredPerSecond,
    // Sustained end to end: whichever of the two ends is slower.
    sustained: Math.min(acceptedPerSecond, deliveredPerSecond),
    server,
    database,
    worker,
    total,
    // What the machine's cores could carry at these costs, were nothing else (load generator,
    // capture server) running: the bound the target is up against.
    ceiling: total === null ? null : (availableParallelism() * 1e6) / total,
  };
}

const micros = (value: number | null) => (value === null ? "n/a" : Math.round(value));

export function ingestResult(runs: IngestRun[]): BenchResult {
  const [first] = runs;
  if (!first) throw new Error("ingestResult needs at least one run");
  const openLoop = runs.find((run) => run.offeredPerSecond !== null);
  const measured = runs.map((run) => ({ run, ...figures(run) }));
  // What the pipeline sustains is measured as fast as it answers: an open loop is capped at its offer.
  const saturated = measured.filter((m) => m.run.offeredPerSecond === null);
  const closedLoop = saturated[0]?.run;
  const row = (label: string, value: (m: (typeof measured)[number]) => string | number) => [
    label,
    ...measured.map(value),
  ];
  const cores = availableParallelism();
  return {
    id: "ingest",
    title: "Event ingest",
    method:
      `Production build (\`next start\`) on PostgreSQL, once per dispatcher placement, each on a fresh database. ` +
      `Batches of ${first.batchSize} \`${first.target.event}\` conversions of \`${first.target.slug}\` are POSTed to \`/api/events\` for ${first.durationSeconds.toFixed(0)} s` +
      (closedLoop
        ? ` by ${closedLoop.connections} autocannon connections as fast as they are answered`
        : "") +
      (openLoop
        ? `${closedLoop ? ", and once more with the worker" : ""} on a fixed schedule of ${openLoop.offeredPerSecond?.toLocaleString("en")} events/s over up to ${openLoop.connections} connections whether or not earlier ones were answered (an open loop: does the outbox keep up with a steady load at the target's rate?)`
        : "") +
      ", " +
      `as ${first.poolSize.toLocaleString("en")} visitors assigned beforehand and consenting; the PostHog destination points at a loopback capture server. ` +
      "Afterwards the outbox drains and every stored event is checked against what arrived.",
    columns: ["Measure", ...runs.map(runLabel)],
    rows: [
      row("Batches in flight per dispatcher", (m) => m.run.dispatchConcurrency),
      row("Events per claimed batch (at most)", (m) => m.run.claimSize),
      row("Requests per second (batches)", (m) => Math.round(m.run.load.requestsPerSecond)),
      row("Request latency p50 / p99 (ms)", (m) => `${m.run.load.p50Ms} / ${m.run.load.p99Ms}`),
      row("Events offered per second", (m) =>
        m.run.offeredPerSecond === null ? "as fast as answered" : m.run.offeredPerSecond,
      ),
      row("Events sent", (m) => m.run.sent),
      row("Events accepted into the outbox", (m) => m.run.accepted),
      row("Accepted per second", (m) => Math.round(m.acceptedPerSecond)),
      row("Delivered per second during the load", (m) => Math.round(m.deliveredPerSecond)),
      row("Outbox backlog when the load stopped (events)", (m) => m.run.pendingAtEnd),
      row("Seconds to drain the outbox after the load", (m) => m.run.drainSeconds),
      row("Lost (accepted, never delivered)", (m) => m.run.lost),
      row("Duplicated (uuids delivered more than once)", (m) => m.run.duplicates.uuids),
      row(
        "Rejected events / failed requests",
        (m) => `${m.run.rejected} / ${m.run.load.errors + m.run.load.non2xx}`,
      ),
      row("Server CPU per event (µs)", (m) => micros(m.server)),
      row("Dispatcher worker CPU per delivered event (µs)", (m) =>
        m.run.dispatcher === "worker" ? micros(m.worker) : "(in the server)",
      ),
      row("PostgreSQL CPU per event (µs)", (m) => micros(m.database)),
      row("CPU per event, all of it (µs)", (m) => micros(m.total)),
      row(`Ceiling at that cost on ${cores} cores (events/s)`, (m) =>
        m.ceiling === null ? "n/a" : Math.round(m.ceiling),
      ),
    ],
    ratios: measured.flatMap((m) => [
      ...(m.run.offeredPerSecond === null
        ? [
            {
              label: `${runLabel(m.run)}: sustained / the replaced system's claimed ${REPLACED_SYSTEM_EVENTS_PER_SECOND.toLocaleString("en")} events/s`,
              value: m.sustained / REPLACED_SYSTEM_EVENTS_PER_SECOND,
            },
          ]
        : []),
      {
        label: `${runLabel(m.run)}: delivered / accepted during the load`,
        value: m.deliveredPerSecond / Math.max(1, m.acceptedPerSecond),
      },
    ]),
    targets: [
      ...(saturated.length
        ? [
            {
              label: `≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString("en")} events/s sustained`,
              met: Math.max(...saturated.map((m) => m.sustained)) >= TARGET_EVENTS_PER_SECOND,
              detail: saturated
                .map(
                  (m) =>
                    `${runLabel(m.run)}: ${Math.round(m.sustained).toLocaleString("en")} events/s (accepted ${Math.round(m.acceptedPerSecond).toLocaleString("en")}, delivered ${Math.round(m.deliveredPerSecond).toLocaleString("en")} during the load)`,
                )
                .join("; "),
            },
          ]
        : []),
      ...(openLoop?.offeredPerSecond
        ? [
            {
              label: `Keeps up with ${openLoop.offeredPerSecond.toLocaleString("en")} events/s offered`,
              met: runs.filter((run) => run.offeredPerSecond !== null).every(keptUp),
              detail: `${Math.round(openLoop.accepted / openLoop.durationSeconds).toLocaleString("en")} accepted and ${Math.round(openLoop.deliveredDuringLoad / openLoop.durationSeconds).toLocaleString("en")} delivered per second during the load; ${openLoop.pendingAtEnd.toLocaleString("en")} events pending when it stopped (at most one second's worth keeps up), ${openLoop.load.errors + openLoop.load.non2xx} failed requests`,
            },
          ]
        : []),
      {
        label: "Zero lost",
        met: runs.every(
          (run) =>
            run.lost === 0 &&
            run.undelivered === 0 &&
            run.pendingAfterDrain === 0 &&
            run.answeredRecorded <= run.stored,
        ),
        detail: runs
          .map(
            (run) =>
              `${runLabel(run)}: ${run.lost} lost of ${run.accepted.toLocaleString("en")} accepted, ${run.stored.toLocaleString("en")} stored, ${run.undelivered} not marked delivered`,
          )
          .join("; "),
      },
      {
        label: "Zero duplicated",
        met: runs.every((run) => run.duplicates.uuids === 0 && run.unexpected === 0),
        detail: runs
          .map(
            (run) =>
              `${runLabel(run)}: ${run.duplicates.uuids} uuids delivered more than once (${run.duplicates.extraCopies} extra copies), ${run.unexpected} unknown uuids`,
          )
          .join("; "),
      },
    ],
    notes: [
      "Accepted means the API answered `recorded`: the event is committed to the outbox. Delivered means the capture server received its uuid (PostHog deduplicates by uuid).",
      "Load generator, server, dispatcher, capture server and PostgreSQL share the machine's cores. The capture server runs in a process of its own (as PostHog is a server of its own): inside the load generator's process it answered deliveries only between autocannon's callbacks.",
      `The ceiling row divides the machine's ${cores} cores by the CPU one event costs the server, the dispatcher and PostgreSQL together (the load generator and the capture server not counted): no placement of the work can sustain more here, so a target above it needs cheaper events or more cores, which is what docs/DEPLOYMENT.md's scaling section is about.`,
      `With the dispatcher inside the server, every await of a batch (its claim, its delivery, its settlement) waits behind the requests queued on the server's one event loop, so what it delivers depends on how many events each await carries: claims of up to ${first.claimSize.toLocaleString("en")} (\`EVENTS_DISPATCH_BATCH_SIZE\`; with 100 it delivered about a fifth as much per second). As a worker it has an event loop of its own, which is what docs/DEPLOYMENT.md advises for high volume.`,
    ],
  };
}
