import type { LoadSummary } from "./load";
import type { BenchResult } from "./report";

/** What one ingest run measured and found (bench/ingest.ts). */
export type IngestRun = {
  durationSeconds: number;
  connections: number;
  batchSize: number;
  poolSize: number;
  dispatcher: "in-app" | "worker";
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

export function ingestResult(run: IngestRun): BenchResult {
  const perSecond = (events: number) => events / run.durationSeconds;
  const acceptedPerSecond = perSecond(run.accepted);
  const deliveredPerSecond = perSecond(run.deliveredDuringLoad);
  // Sustained end to end: whichever of the two ends is slower.
  const sustained = Math.min(acceptedPerSecond, deliveredPerSecond);
  const cpuPerEvent = (ms: number | null) =>
    ms === null ? "n/a" : `${((ms * 1000 * run.load.requests) / Math.max(1, run.sent)).toFixed(0)}`;
  const workerCpuPerEvent =
    run.workerCpuSeconds === null
      ? "n/a"
      : `${((run.workerCpuSeconds * 1e6) / Math.max(1, run.sent)).toFixed(0)}`;
  const failedRequests = run.load.errors + run.load.non2xx;
  return {
    id: "ingest",
    title: "Event ingest",
    method:
      `Production build (\`next start\`) on PostgreSQL, dispatcher ${run.dispatcher === "in-app" ? "inside the server" : "as a separate `npm run events:dispatch` worker"}. ` +
      `${run.connections} autocannon connections POST batches of ${run.batchSize} \`${run.target.event}\` conversions of \`${run.target.slug}\` to \`/api/events\` for ${run.durationSeconds.toFixed(0)} s, ` +
      `as ${run.poolSize.toLocaleString("en")} visitors assigned beforehand and consenting; the PostHog destination points at a loopback capture server. ` +
      "Afterwards the outbox drains and every stored event is checked against what arrived.",
    columns: ["Measure", "Value"],
    rows: [
      ["Requests per second (batches)", Math.round(run.load.requestsPerSecond)],
      ["Request latency p50 / p99 (ms)", `${run.load.p50Ms} / ${run.load.p99Ms}`],
      ["Events sent", run.sent],
      ["Events accepted into the outbox", run.accepted],
      ["Accepted per second", Math.round(acceptedPerSecond)],
      ["Delivered per second during the load", Math.round(deliveredPerSecond)],
      ["Seconds to drain the outbox after the load", run.drainSeconds],
      ["Lost (accepted, never delivered)", run.lost],
      ["Duplicated (uuids delivered more than once)", run.duplicates.uuids],
      ["Rejected events / failed requests", `${run.rejected} / ${failedRequests}`],
      ["Server CPU per event (µs)", cpuPerEvent(run.load.appCpuMs)],
      ...(run.dispatcher === "worker" ? [["Dispatcher worker CPU per event (µs)", workerCpuPerEvent]] : []),
      ["PostgreSQL CPU per event (µs)", cpuPerEvent(run.load.databaseCpuMs)],
    ],
    ratios: [
      {
        label: `Verdict sustained / the replaced system's claimed ${REPLACED_SYSTEM_EVENTS_PER_SECOND.toLocaleString("en")} events/s`,
        value: sustained / REPLACED_SYSTEM_EVENTS_PER_SECOND,
      },
      {
        label: "Delivered / accepted during the load",
        value: deliveredPerSecond / Math.max(1, acceptedPerSecond),
      },
    ],
    targets: [
      {
        label: `≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString("en")} events/s sustained`,
        met: sustained >= TARGET_EVENTS_PER_SECOND,
        detail: `${Math.round(sustained).toLocaleString("en")} events/s (accepted ${Math.round(acceptedPerSecond).toLocaleString("en")}, delivered ${Math.round(deliveredPerSecond).toLocaleString("en")} during the load)`,
      },
      {
        label: "Zero lost",
        met:
          run.lost === 0 &&
          run.undelivered === 0 &&
          run.pendingAfterDrain === 0 &&
          run.answeredRecorded <= run.stored,
        detail: `${run.lost} lost of ${run.accepted.toLocaleString("en")} accepted; ${run.stored.toLocaleString("en")} stored, ${run.undelivered} not marked delivered`,
      },
      {
        label: "Zero duplicated",
        met: run.duplicates.uuids === 0 && run.unexpected === 0,
        detail: `${run.duplicates.uuids} uuids delivered more than once (${run.duplicates.extraCopies} extra copies), ${run.unexpected} unknown uuids`,
      },
    ],
    notes: [
      "Accepted means the API answered `recorded`: the event is committed to the outbox. Delivered means the capture server received its uuid (PostHog deduplicates by uuid).",
      "Load generator, server, dispatcher, capture server and PostgreSQL share the machine's cores. The capture server runs in a process of its own (as PostHog is a server of its own): inside the load generator's process it answered deliveries only between autocannon's callbacks.",
      "With the dispatcher inside the server, delivery during the load is slow because it shares the server's one event loop with the requests: under load a batch of 100 took 120–240 ms to deliver (every await waits behind queued requests) against about 10 ms idle, so the outbox mostly drains after the load. `--worker` runs it as `npm run events:dispatch` instead, which is what docs/DEPLOYMENT.md advises for high volume; on this machine the two processes then share 2 cores with PostgreSQL and the load generator.",
    ],
  };
}
