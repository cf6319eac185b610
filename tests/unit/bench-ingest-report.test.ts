import { describe, expect, it } from "vitest";
import { type IngestRun, ingestResult } from "../../bench/lib/ingest-report";
import type { LoadSummary } from "../../bench/lib/load";

const load = (overrides: Partial<LoadSummary> = {}): LoadSummary => ({
  label: "ingest",
  requests: 12_000,
  requestsPerSecond: 200,
  p50Ms: 5,
  p99Ms: 40,
  errors: 0,
  non2xx: 0,
  durationSeconds: 60,
  appCpuMs: 2,
  databaseCpuMs: 2,
  sliceP99Ms: [40],
  ...overrides,
});

const run = (overrides: Partial<IngestRun>): IngestRun => ({
  durationSeconds: 60,
  connections: 20,
  batchSize: 50,
  poolSize: 2_000,
  dispatcher: "worker",
  offeredPerSecond: null,
  pendingAtEnd: 0,
  dispatchConcurrency: 4,
  claimSize: 1_000,
  target: { slug: "checkout", event: "begin_checkout" },
  load: load(),
  sent: 720_000,
  accepted: 720_000,
  answeredRecorded: 720_000,
  rejected: 0,
  deliveredDuringLoad: 700_000,
  workerCpuSeconds: 20,
  drainSeconds: 1,
  pendingAfterDrain: 0,
  stored: 720_000,
  lost: 0,
  unexpected: 0,
  undelivered: 0,
  duplicates: { uuids: 0, extraCopies: 0 },
  ...overrides,
});

/** An open-loop run at 10,000 events/s for 60 s that took everything in. */
const openLoop = (overrides: Partial<IngestRun> = {}) =>
  run({
    offeredPerSecond: 10_000,
    connections: 50,
    sent: 600_000,
    accepted: 600_000,
    answeredRecorded: 600_000,
    stored: 600_000,
    deliveredDuringLoad: 598_800,
    pendingAtEnd: 1_200,
    ...overrides,
  });

const target = (result: ReturnType<typeof ingestResult>, start: string) =>
  result.targets.find((candidate) => candidate.label.startsWith(start));

describe("the ingest benchmark's report", () => {
  it("judges what is sustained on the saturated runs only: an open loop is capped at its offer", () => {
    const result = ingestResult([run({ deliveredDuringLoad: 660_000 }), openLoop()]);
    // Saturated: 12,000 accepted and 11,000 delivered per second; the open loop's 9,980 does not count.
    expect(target(result, "≥ 10,000 events/s sustained")).toMatchObject({ met: true });
    expect(target(result, "≥ 10,000 events/s sustained")?.detail).not.toContain("offered");
    expect(result.ratios.filter((ratio) => ratio.label.includes("replaced system"))).toHaveLength(1);

    const slow = ingestResult([run({ accepted: 540_000, stored: 540_000, deliveredDuringLoad: 540_000 })]);
    expect(target(slow, "≥ 10,000 events/s sustained")).toMatchObject({ met: false });
    expect(target(slow, "Keeps up")).toBeUndefined();
  });

  it("says an open loop keeps up when it took every offered event and left at most a second's worth pending", () => {
    expect(target(ingestResult([openLoop()]), "Keeps up with 10,000 events/s offered")?.met).toBe(true);
    expect(target(ingestResult([openLoop({ pendingAtEnd: 10_001 })]), "Keeps up")?.met).toBe(false);
    expect(target(ingestResult([openLoop({ accepted: 590_000, stored: 590_000 })]), "Keeps up")?.met).toBe(
      false,
    );
    expect(target(ingestResult([openLoop({ load: load({ non2xx: 1 }) })]), "Keeps up")?.met).toBe(false);
    // Alone, an open loop makes no claim about what is sustained.
    expect(target(ingestResult([openLoop()]), "≥ 10,000 events/s sustained")).toBeUndefined();
  });

  it("labels each run's column with where the dispatcher ran and the rate offered", () => {
    const result = ingestResult([run({ dispatcher: "in-app" }), run({}), openLoop()]);
    expect(result.columns).toEqual([
      "Measure",
      "Dispatcher inside the server",
      "Dispatcher as a worker (`npm run events:dispatch`)",
      "Dispatcher as a worker (`npm run events:dispatch`), 10,000 events/s offered",
    ]);
    expect(result.rows.find((row) => row[0] === "Outbox backlog when the load stopped (events)")).toEqual([
      "Outbox backlog when the load stopped (events)",
      0,
      0,
      1_200,
    ]);
  });
});
