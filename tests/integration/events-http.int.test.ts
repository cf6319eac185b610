import { afterAll, describe, expect, it, vi } from "vitest";

// The per-address budget of `events.track` is read when its router loads: set before any import,
// and put back afterwards for the next file this worker runs.
const original = vi.hoisted(() => {
  const saved = {
    RATE_LIMIT_EVENTS_PER_MINUTE: process.env.RATE_LIMIT_EVENTS_PER_MINUTE,
    REDIS_URL: process.env.REDIS_URL,
  };
  process.env.RATE_LIMIT_EVENTS_PER_MINUTE = "3";
  // Each process counts for itself, so the budget here is this test's alone.
  process.env.REDIS_URL = "";
  return saved;
});
afterAll(() => {
  for (const [name, value] of Object.entries(original)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

import type { ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { handleEventBeacon, MAX_BEACON_BODY_BYTES } from "@/server/events/beacon";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

const visitor = (n: number) => `be7c${String(n).padStart(4, "0")}-4444-4555-8666-777788889999`;
let nextAddress = 0;
/** A client address of its own per use, so one test's requests never spend another's budget. */
const freshIp = () => `198.18.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

describe.each(databaseKinds())("event endpoints over HTTP on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let trpc: (request: Request) => Promise<Response>;
  const beacon = (request: Request) =>
    handleEventBeacon(request, { getSession: async () => null, experiments: services });

  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
    trpc = createTRPCHttpHandler({ getSession: async () => null, experiments: services });
  });

  /** A visitor enrolled in a new experiment counting `signup`. */
  async function enrolled(n: number) {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    await services.assignments.getVariantForVisitor(slug, visitor(n));
    return slug;
  }

  const conversion = (slug: string, key: string) => ({
    type: "conversion",
    slug,
    event: "signup",
    idempotencyKey: key,
  });

  it("events.track answers 429 TOO_MANY_REQUESTS with Retry-After past its per-address limit", async () => {
    const slug = await enrolled(1);
    const ip = freshIp();
    const track = (key: string, from = ip) =>
      trpc(
        new Request("http://localhost/api/trpc/events.track", {
          method: "POST",
          headers: {
            cookie: `verdict_vid=${visitor(1)}; verdict_consent=granted`,
            "content-type": "application/json",
            "x-forwarded-for": from,
          },
          body: JSON.stringify({ json: { events: [conversion(slug, key)] } }),
        }),
      );
    for (const key of ["rate-key-001", "rate-key-002", "rate-key-003"])
      expect((await track(key)).status).toBe(200);

    const limited = await track("rate-key-004");
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.json.data.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Refused before anything was recorded.
    expect(await test.db.event.count({ where: { idempotencyKey: "conversion:rate-key-004" } })).toBe(0);
    // Another address has its own budget.
    expect((await track("rate-key-005", freshIp())).status).toBe(200);
  });

  it("the beacon takes a text/plain JSON body, as navigator.sendBeacon sends it", async () => {
    const slug = await enrolled(2);
    const response = await beacon(
      new Request("http://localhost/api/events", {
        method: "POST",
        headers: {
          "content-type": "text/plain;charset=UTF-8",
          cookie: `verdict_vid=${visitor(2)}; verdict_consent=granted`,
          "x-forwarded-for": freshIp(),
        },
        body: JSON.stringify({
          events: [conversion(slug, "beacon-key-01"), conversion(slug, "beacon-key-01")],
        }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcomes: ["recorded", "duplicate"] });
    expect(
      await test.db.event.findFirstOrThrow({ where: { idempotencyKey: "conversion:beacon-key-01" } }),
    ).toMatchObject({
      visitorId: visitor(2),
      source: "BROWSER",
      consent: "GRANTED",
      deliveryStatus: "PENDING",
    });
  });

  it("the beacon answers 400 to a body that is not JSON, and to JSON that is not a batch", async () => {
    const post = (body: string) =>
      beacon(
        new Request("http://localhost/api/events", {
          method: "POST",
          headers: {
            "content-type": "text/plain",
            cookie: `verdict_vid=${visitor(3)}`,
            "x-forwarded-for": freshIp(),
          },
          body,
        }),
      );
    const notJson = await post("events=1&slug=landing-hero");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "Body must be JSON" });

    const notABatch = await post(JSON.stringify({ events: [{ type: "conversion", slug: "Not A Slug" }] }));
    expect(notABatch.status).toBe(400);
    expect((await notABatch.json()).code).toBe("BAD_REQUEST");
  });

  it("the beacon answers 413 to a body larger than a browser may beacon, storing nothing", async () => {
    const slug = await enrolled(4);
    const before = await test.db.event.count();
    const events = Array.from({ length: 50 }, (_, i) => ({
      ...conversion(slug, `beacon-big-${String(i).padStart(3, "0")}`),
      properties: { note: "x".repeat(500), more: "y".repeat(500) },
    }));
    const body = JSON.stringify({ events, padding: "z".repeat(MAX_BEACON_BODY_BYTES) });
    const response = await beacon(
      new Request("http://localhost/api/events", {
        method: "POST",
        headers: {
          "content-type": "text/plain",
          cookie: `verdict_vid=${visitor(4)}`,
          "x-forwarded-for": freshIp(),
        },
        body,
      }),
    );
    expect(response.status).toBe(413);
    expect(await test.db.event.count()).toBe(before);
  });
});
