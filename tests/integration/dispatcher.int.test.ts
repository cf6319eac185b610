import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventUuid } from "@/features/experiments/core/events";
import type { PrismaClient } from "@/generated/prisma/client";
import { createDatabase } from "@/server/db/client";
import { PostHogDestination } from "@/server/events/destinations";
import { backoffDelay, EventDispatcher } from "@/server/events/dispatcher";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";
import { FakePostHog } from "./fake-posthog";

let sequence = 0;
async function writeEvents(db: PrismaClient, count: number, overrides: Record<string, unknown> = {}) {
  const batch = Array.from({ length: count }, () => {
    sequence += 1;
    return {
      name: "experiment_viewed",
      occurredAt: new Date(Date.UTC(2026, 10, 20, 12, 0, sequence % 60)),
      visitorId: `visitor-${sequence}`,
      experimentSlug: "landing-hero",
      variant: sequence % 2 ? "control" : "treatment",
      phase: 1,
      properties: {
        experiment_slug: "landing-hero",
        "$feature/landing-hero": sequence % 2 ? "control" : "treatment",
      },
      source: "BROWSER" as const,
      idempotencyKey: `test:${process.pid}:${sequence}`,
      consent: "GRANTED" as const,
      ...overrides,
    };
  });
  await db.event.createMany({ data: batch });
  return batch;
}

/** A clock the test moves by hand, so backoff schedules are exercised without waiting. */
function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe.each(databaseKinds())("event dispatcher on %s", (kind) => {
  let test: TestDatabase;
  let posthog: FakePostHog;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });
  beforeEach(async () => {
    posthog = await new FakePostHog().start();
    await test.db.event.deleteMany({});
  });
  afterEach(async () => {
    await posthog.stop();
  });

  const destination = () =>
    new PostHogDestination({ apiKey: "phc_test", host: posthog.url, timeoutMs: 2_000 });

  it("delivers batches with the PostHog uuid, distinct id, timestamp and feature properties", async () => {
    const written = await writeEvents(test.db, 150);
    const dispatcher = new EventDispatcher(test.db, [destination()], { batchSize: 100 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 100, delivered: 100 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 50, delivered: 50 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 0 });
    expect(posthog.batches.map((batch) => batch.length)).toEqual([100, 50]);
    const first = written[0];
    const sent = posthog.events.find((event) => event.uuid === eventUuid(first?.idempotencyKey ?? ""));
    expect(sent).toMatchObject({ event: "experiment_viewed", distinct_id: first?.visitorId });
    expect(sent?.properties).toMatchObject({
      "$feature/landing-hero": first?.variant,
      visitor_id: first?.visitorId,
      verdict_source: "browser",
    });
    expect(new Date(sent?.timestamp ?? 0).toISOString()).toBe(first?.occurredAt.toISOString());
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(150);
  });

  it("loses nothing and duplicates nothing through a 30-second outage", async () => {
    await writeEvents(test.db, 40);
    const clock = manualClock();
    const dispatcher = new EventDispatcher(test.db, [destination()], {
      now: clock.now,
      random: () => 0.5,
      baseDelayMs: 1_000,
    });
    posthog.mode = "fail";
    for (let second = 0; second < 30; second++) {
      await dispatcher.dispatchOnce();
      clock.advance(1_000);
    }
    expect(posthog.events).toHaveLength(0);
    const failing = await test.db.event.findFirstOrThrow({});
    expect(failing.lastError).toContain("503");
    expect(failing.attempts).toBeGreaterThan(1);
    posthog.mode = "ok";
    clock.advance(60_000);
    while ((await dispatcher.dispatchOnce()).claimed > 0) clock.advance(1_000);
    expect(posthog.events).toHaveLength(40);
    expect([...posthog.uuidCounts().values()].every((count) => count === 1)).toBe(true);
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(40);
  });

  it("gives up after the maximum attempts (dead letters), and an admin re-drive delivers them", async () => {
    await writeEvents(test.db, 3);
    const clock = manualClock();
    const dispatcher = new EventDispatcher(test.db, [destination()], { now: clock.now, maxAttempts: 3 });
    posthog.mode = "fail";
    for (let i = 0; i < 5; i++) {
      await dispatcher.dispatchOnce();
      clock.advance(3_600_000);
    }
    expect(await test.db.event.count({ where: { deliveryStatus: "DEAD" } })).toBe(3);
    posthog.mode = "ok";
    const { OutboxStore } = await import("@/server/events/outbox");
    expect(await new OutboxStore(test.db).redrive("all", clock.now())).toBe(3);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ delivered: 3 });
  });

  it("a dispatcher that dies mid-delivery leaves its batch to the next one, delivered once", async () => {
    await writeEvents(test.db, 10);
    const clock = manualClock();
    posthog.mode = "stall";
    const doomed = new EventDispatcher(test.db, [destination()], { now: clock.now, leaseMs: 5_000 });
    const abandoned = doomed.dispatchOnce();
    await expect.poll(() => posthog.requests).toBe(1);
    // The first dispatcher is gone (its request never completes); its lease runs out.
    posthog.mode = "ok";
    clock.advance(6_000);
    const successor = new EventDispatcher(test.db, [destination()], { now: clock.now });
    expect(await successor.dispatchOnce()).toMatchObject({ delivered: 10 });
    expect(posthog.events).toHaveLength(10);
    await posthog.stop();
    await abandoned.catch(() => {});
    posthog = await new FakePostHog().start();
  });

  it("two dispatchers on one database deliver each event once", async () => {
    await writeEvents(test.db, 500);
    const second = kind === "postgres" ? createDatabase(test.target, { poolSize: 2 }) : null;
    const a = new EventDispatcher(test.db, [destination()], { batchSize: 25 });
    const b = new EventDispatcher(second?.db ?? test.db, [destination()], { batchSize: 25 });
    try {
      const drain = async (dispatcher: EventDispatcher) => {
        while ((await dispatcher.dispatchOnce()).claimed > 0) {}
      };
      await Promise.all([drain(a), drain(b)]);
    } finally {
      await second?.close();
    }
    expect(posthog.events).toHaveLength(500);
    expect(posthog.uuidCounts().size).toBe(500);
  });

  it("runs as a loop and finishes the batch in flight when stopped", async () => {
    await writeEvents(test.db, 30);
    const dispatcher = new EventDispatcher(test.db, [destination()], { idleMs: 50 });
    dispatcher.start();
    await expect.poll(() => posthog.events.length, { timeout: 10_000 }).toBe(30);
    await dispatcher.stop();
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(30);
  });
});

describe("backoff", () => {
  it("grows exponentially with jitter, capped", () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe.runIf(databaseKinds().includes("postgres"))("npm run events:dispatch as a worker process", () => {
  it("killed mid-dispatch, the rest is delivered exactly once after a restart", async () => {
    const { spawn } = await import("node:child_process");
    const test = await createTestDatabase("postgres");
    const posthog = await new FakePostHog().start();
    const url = (test.target as { url: string }).url;
    const start = () =>
      spawn(process.execPath, ["--import", "tsx", "scripts/events-dispatch.ts"], {
        env: {
          ...process.env,
          DATABASE_URL: url,
          POSTHOG_API_KEY: "phc_test",
          POSTHOG_HOST: posthog.url,
          EVENTS_LEASE_SECONDS: "2",
          LOG_LEVEL: "silent",
        },
        stdio: "ignore",
      });
    try {
      await writeEvents(test.db, 250);
      posthog.mode = "stall";
      const worker = start();
      await expect.poll(() => posthog.requests, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      worker.kill("SIGKILL");
      await new Promise((resolve) => worker.once("exit", resolve));
      posthog.mode = "ok";
      const restarted = start();
      try {
        await expect
          .poll(() => test.db.event.count({ where: { deliveryStatus: "DELIVERED" } }), { timeout: 60_000 })
          .toBe(250);
      } finally {
        restarted.kill("SIGTERM");
        await new Promise((resolve) => restarted.once("exit", resolve));
      }
      expect(posthog.events).toHaveLength(250);
      expect(posthog.uuidCounts().size).toBe(250);
    } finally {
      await posthog.stop();
      await test.drop();
    }
  }, 120_000);
});
