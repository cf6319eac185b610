import superjson from "superjson";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { databaseKinds, type TestDatabase } from "./databases";
import {
  CALLER_HEADER,
  type Caller,
  endpointForSeededCallers,
  withFreshServices,
} from "./experiments-fixture";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type Reply = { status: number; data: any; error: any };

/** The delivery panel's API: `admin.events.status` (a query) and `admin.events.redrive` (a mutation). */
describe.each(databaseKinds())("admin events API on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let handler: (request: Request) => Promise<Response>;

  async function call(procedure: "status" | "redrive", input: unknown, as: Caller): Promise<Reply> {
    const url = new URL(`http://localhost/api/trpc/admin.events.${procedure}`);
    const headers = { [CALLER_HEADER]: as, "content-type": "application/json" };
    const request =
      procedure === "status"
        ? new Request(url, { headers })
        : new Request(url, { method: "POST", headers, body: JSON.stringify(superjson.serialize(input)) });
    const response = await handler(request);
    const body = await response.json();
    return {
      status: response.status,
      data: body.result ? superjson.deserialize(body.result.data) : undefined,
      error: body.error?.json,
    };
  }

  let sequence = 0;
  async function event(status: "DEAD" | "PENDING" | "DELIVERED", extra: Record<string, unknown> = {}) {
    sequence += 1;
    return test.db.event.create({
      data: {
        name: "experiment_viewed",
        occurredAt: new Date(Date.UTC(2026, 10, 20, 12, 0, sequence)),
        visitorId: `admin-events-visitor-${sequence}`,
        experimentSlug: "landing-hero",
        variant: "control",
        phase: 1,
        source: "BROWSER",
        idempotencyKey: `admin-events:${process.pid}:${sequence}`,
        consent: "GRANTED",
        deliveryStatus: status,
        ...(status === "DEAD" ? { attempts: 12, lastError: "posthog answered 503" } : {}),
        nextAttemptAt: new Date(Date.UTC(2026, 10, 20, 13)),
        ...extra,
      },
    });
  }

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    ({ handler } = await endpointForSeededCallers(test, services));
  });
  beforeEach(async () => {
    await test.db.event.deleteMany({});
  });

  it("refuses anonymous callers (401) and members (403), and re-drives nothing for them", async () => {
    const dead = await event("DEAD");
    for (const [as, status, code] of [
      ["anonymous", 401, "UNAUTHORIZED"],
      ["member", 403, "FORBIDDEN"],
    ] as const) {
      const read = await call("status", undefined, as);
      expect(read.status).toBe(status);
      expect(read.error.data.code).toBe(code);
      expect(read.data).toBeUndefined();
      for (const ids of [[dead.id], "all"]) {
        const redrive = await call("redrive", { ids }, as);
        expect(redrive.status).toBe(status);
        expect(redrive.error.data.code).toBe(code);
      }
    }
    expect(await test.db.event.findUniqueOrThrow({ where: { id: dead.id } })).toMatchObject({
      deliveryStatus: "DEAD",
      attempts: 12,
    });
  });

  it("shows an admin the counts per state and the dead letters with their last error", async () => {
    const dead = await event("DEAD");
    await event("PENDING");
    await event("DELIVERED");
    await event("DELIVERED");
    const reply = await call("status", undefined, "admin");
    expect(reply.status).toBe(200);
    expect(reply.data.counts).toEqual({ DEAD: 1, PENDING: 1, DELIVERED: 2 });
    expect(reply.data.dead).toEqual([
      {
        id: dead.id,
        name: "experiment_viewed",
        experimentSlug: "landing-hero",
        occurredAt: dead.occurredAt,
        attempts: 12,
        lastError: "posthog answered 503",
      },
    ]);
  });

  it("re-drives the chosen dead events back to pending with a fresh budget, then all of them", async () => {
    const [first, second, third] = [await event("DEAD"), await event("DEAD"), await event("DEAD")];
    const delivered = await event("DELIVERED");
    const before = Date.now();

    const chosen = await call("redrive", { ids: [first?.id, delivered.id] }, "admin");
    expect(chosen.status).toBe(200);
    // Only dead events move: a delivered one named alongside stays delivered.
    expect(chosen.data).toEqual({ redriven: 1 });
    const redriven = await test.db.event.findUniqueOrThrow({ where: { id: first?.id } });
    expect(redriven).toMatchObject({ deliveryStatus: "PENDING", attempts: 0, lastError: null });
    expect(redriven.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(redriven.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    for (const id of [second?.id, third?.id])
      expect((await test.db.event.findUniqueOrThrow({ where: { id } })).deliveryStatus).toBe("DEAD");

    expect((await call("redrive", { ids: "all" }, "admin")).data).toEqual({ redriven: 2 });
    expect(await test.db.event.count({ where: { deliveryStatus: "DEAD" } })).toBe(0);
    expect(await test.db.event.count({ where: { deliveryStatus: "PENDING", attempts: 0 } })).toBe(3);
    expect((await test.db.event.findUniqueOrThrow({ where: { id: delivered.id } })).deliveryStatus).toBe(
      "DELIVERED",
    );
    expect((await call("status", undefined, "admin")).data.dead).toEqual([]);
  });

  it("answers 400 to ids that are not event ids", async () => {
    const reply = await call("redrive", { ids: ["not-a-uuid"] }, "admin");
    expect(reply.status).toBe(400);
    expect(reply.error.data.code).toBe("BAD_REQUEST");
  });
});
