import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventUuid } from "@/features/experiments/core/events";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { distinctIdOf, PostHogDestination } from "@/server/events/destinations";
import { EventDispatcher } from "@/server/events/dispatcher";
import { handleOrderWebhook } from "@/server/events/orders";
import type { OutboxEvent } from "@/server/events/outbox";
import { MemoryRateLimiter } from "@/server/rate-limit";
import { DEMO_TEAM_ID } from "@/server/seed";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";
import { type CapturedEvent, FakePostHog } from "./fake-posthog";

const visitor = (n: number) => `e7a0${String(n).padStart(4, "0")}-3333-4444-8555-666677778888`;
const ORDER_SECRET = "event-properties-order-secret";

/**
 * What PostHog receives for exposures and conversions, read at a loopback capture server after a
 * real dispatch: the properties its breakdowns, funnels and person profiles depend on.
 */
describe.each(databaseKinds())("delivered event properties on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let posthog: FakePostHog;
  let memberId: string;

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    memberId = (await test.db.user.findFirstOrThrow({ where: { role: "MEMBER" } })).id;
  });
  beforeEach(async () => {
    posthog = await new FakePostHog().start();
  });
  afterEach(async () => {
    await posthog.stop();
  });

  /** Delivers everything due to the fake PostHog; returns what arrived, by idempotency key. */
  async function deliver(): Promise<(key: string) => CapturedEvent> {
    const dispatcher = new EventDispatcher(test.db, [
      new PostHogDestination({ apiKey: "phc_test", host: posthog.url, timeoutMs: 5_000 }),
    ]);
    while ((await dispatcher.dispatchOnce()).claimed > 0) {}
    return (key) => {
      const found = posthog.events.find((event) => event.uuid === eventUuid(key));
      if (!found) throw new Error(`${key} was not delivered`);
      return found;
    };
  }

  const keyOf = async (slug: string, name: string) =>
    (await test.db.event.findFirstOrThrow({ where: { experimentSlug: slug, name } })).idempotencyKey;

  it("a visitor's exposure and conversion carry the assignment type, visitor id, feature flag and $set", async () => {
    const slug = await createExperiment(services, { setPersonProperty: true, conversionEvents: ["signup"] });
    const id = visitor(1);
    const { variant } = await services.assignments.getVariantForVisitor(slug, id);
    const common = { ids: { visitorId: id }, source: "BROWSER" as const, consent: "granted" as const, slug };
    expect(await services.events.recordExposure({ ...common, variant: variant as string })).toBe("recorded");
    expect(
      await services.events.recordConversion({
        ...common,
        event: "signup",
        idempotencyKey: "props-visitor-signup",
        properties: { plan: "pro" },
      }),
    ).toBe("recorded");

    const sent = await deliver();
    const exposure = sent(await keyOf(slug, "experiment_viewed"));
    expect(exposure.event).toBe("experiment_viewed");
    expect(exposure.distinct_id).toBe(id);
    expect(exposure.properties).toMatchObject({
      experiment_slug: slug,
      variant,
      assignment_type: "deterministic",
      visitor_id: id,
      [`$feature/${slug}`]: variant,
      $set: { [`experiment_${slug}`]: variant },
    });
    expect(exposure.properties).not.toHaveProperty("user_id");
    expect(exposure.properties).not.toHaveProperty("team_id");

    const conversion = sent("conversion:props-visitor-signup");
    expect(conversion.event).toBe("experiment_conversion");
    expect(conversion.distinct_id).toBe(id);
    expect(conversion.properties).toMatchObject({
      experiment_slug: slug,
      variant,
      conversion_event: "signup",
      assignment_type: "deterministic",
      visitor_id: id,
      plan: "pro",
      [`$feature/${slug}`]: variant,
    });
    // The person property is the exposure's to set; a conversion never rewrites it.
    expect(conversion.properties).not.toHaveProperty("$set");
  });

  it("a signed-in user's random assignment: user and visitor ids, no $set unless the experiment asks", async () => {
    const slug = await createExperiment(services, { scope: "user", assignmentType: "random" });
    const ids = { userId: memberId, teamId: DEMO_TEAM_ID, visitorId: visitor(2) };
    const { variant } = await services.assignments.getVariantForUser(slug, memberId);
    const common = { ids, source: "BROWSER" as const, consent: "granted" as const, slug };
    expect(await services.events.recordExposure({ ...common, variant: variant as string })).toBe("recorded");
    expect(
      await services.events.recordConversion({
        ...common,
        event: "upgrade",
        idempotencyKey: "props-user-upgrade",
      }),
    ).toBe("recorded");

    const sent = await deliver();
    for (const event of [
      sent(await keyOf(slug, "experiment_viewed")),
      sent("conversion:props-user-upgrade"),
    ]) {
      expect(event.distinct_id).toBe(memberId);
      expect(event.properties).toMatchObject({
        assignment_type: "random",
        user_id: memberId,
        team_id: DEMO_TEAM_ID,
        visitor_id: visitor(2),
        [`$feature/${slug}`]: variant,
      });
      expect(event.properties).not.toHaveProperty("$set");
    }
  });

  it("a team's assignment: team id on both, and the member as the person", async () => {
    const slug = await createExperiment(services, { scope: "team", setPersonProperty: true });
    const { variant } = await services.assignments.getVariantForTeam(slug, DEMO_TEAM_ID);
    const common = {
      ids: { userId: memberId, teamId: DEMO_TEAM_ID, visitorId: null },
      source: "BROWSER" as const,
      consent: "granted" as const,
      slug,
    };
    expect(await services.events.recordExposure({ ...common, variant: variant as string })).toBe("recorded");
    expect(
      await services.events.recordConversion({
        ...common,
        event: "invite",
        idempotencyKey: "props-team-invite",
      }),
    ).toBe("recorded");

    const sent = await deliver();
    const exposure = sent(await keyOf(slug, "experiment_viewed"));
    const conversion = sent("conversion:props-team-invite");
    for (const event of [exposure, conversion]) {
      expect(event.distinct_id).toBe(memberId);
      expect(event.properties).toMatchObject({
        assignment_type: "deterministic",
        team_id: DEMO_TEAM_ID,
        user_id: memberId,
        [`$feature/${slug}`]: variant,
      });
      expect(event.properties).not.toHaveProperty("visitor_id");
    }
    expect(exposure.properties.$set).toEqual({ [`experiment_${slug}`]: variant });
  });

  it("a purchase from an order carries the assignment type, order and amount, for the cart's PostHog id", async () => {
    const slug = await createExperiment(services);
    const id = visitor(3);
    const { variant } = await services.assignments.getVariantForVisitor(slug, id);
    // The visitor's own accepted consent, which the order's events follow.
    await services.events.recordExposure({
      ids: { visitorId: id },
      source: "BROWSER",
      consent: "granted",
      slug,
      variant: variant as string,
    });
    const orderId = 7_000_000_000 + process.pid;
    const body = JSON.stringify({
      id: orderId,
      total_price: "42.50",
      currency: "EUR",
      created_at: "2024-05-01T10:00:00Z",
      note_attributes: [
        { name: "verdict_visitor_id", value: id },
        { name: "ph_distinct_id", value: "ph-browser-props" },
        { name: `exp_${slug}`, value: variant },
      ],
    });
    const response = await handleOrderWebhook(
      new Request("http://localhost/api/webhooks/orders", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-shopify-hmac-sha256": createHmac("sha256", ORDER_SECRET).update(body).digest("base64"),
        },
        body,
      }),
      { services, secret: ORDER_SECRET, limiter: new MemoryRateLimiter(100, 60_000) },
    );
    expect(await response.json()).toEqual({ recorded: 2, replay: false });

    const sent = await deliver();
    const conversion = sent(`order:${orderId}:${slug}`);
    expect(conversion.event).toBe("experiment_conversion");
    expect(conversion.distinct_id).toBe("ph-browser-props");
    expect(conversion.properties).toMatchObject({
      experiment_slug: slug,
      variant,
      conversion_event: "purchase",
      assignment_type: "deterministic",
      order_id: String(orderId),
      value: 42.5,
      currency: "EUR",
      visitor_id: id,
      [`$feature/${slug}`]: variant,
    });
    expect(conversion.properties).not.toHaveProperty("ph_distinct_id");
  });

  it("a browser's conversion cannot name its person, experiment, variant or PostHog properties", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    const id = visitor(4);
    const { variant } = await services.assignments.getVariantForVisitor(slug, id);
    const other = variant === "control" ? "treatment" : "control";
    const handler = createTRPCHttpHandler({ getSession: async () => null, experiments: services });
    const response = await handler(
      new Request("http://localhost/api/trpc/events.track", {
        method: "POST",
        headers: {
          cookie: `verdict_vid=${id}; verdict_consent=granted`,
          "content-type": "application/json",
          "x-forwarded-for": "198.51.100.61",
        },
        body: JSON.stringify({
          json: {
            events: [
              {
                type: "conversion",
                slug,
                event: "signup",
                idempotencyKey: "props-spoofed-signup",
                properties: {
                  plan: "pro",
                  ph_distinct_id: "someone-else",
                  distinct_id: "someone-else",
                  [`$feature/${slug}`]: other,
                  "$feature/landing-hero": "treatment",
                  $set: "hijacked",
                  $groups: "hijacked",
                  experiment_slug: "landing-hero",
                  variant: other,
                  conversion_event: "purchase",
                  assignment_type: "forged",
                  user_id: "someone-else",
                  team_id: "someone-else",
                  verdict_source: "server",
                },
              },
            ],
          },
        }),
      }),
    );
    expect(response.status).toBe(200);
    expect((await response.json()).result.data.json.outcomes).toEqual(["recorded"]);

    const stored = await test.db.event.findFirstOrThrow({
      where: { idempotencyKey: "conversion:props-spoofed-signup" },
    });
    expect(stored.properties).toEqual({
      plan: "pro",
      experiment_slug: slug,
      variant,
      conversion_event: "signup",
      assignment_type: "deterministic",
      [`$feature/${slug}`]: variant,
    });

    const sent = await deliver();
    const conversion = sent("conversion:props-spoofed-signup");
    expect(conversion.distinct_id).toBe(id);
    expect(conversion.properties).toMatchObject({
      [`$feature/${slug}`]: variant,
      variant,
      experiment_slug: slug,
      verdict_source: "browser",
    });
    for (const key of ["$set", "$groups", "$feature/landing-hero", "user_id", "team_id", "distinct_id"])
      expect(conversion.properties).not.toHaveProperty(key);
  });

  it("only a webhook's event may name a PostHog id, also for rows stored before filtering", () => {
    const row = (source: string): OutboxEvent => ({
      id: "00000000-0000-4000-8000-000000000001",
      name: "experiment_conversion",
      occurredAt: new Date(),
      userId: null,
      teamId: null,
      visitorId: visitor(5),
      experimentSlug: "landing-hero",
      variant: "control",
      phase: 1,
      properties: { ph_distinct_id: "ph-from-somewhere" },
      correlationId: null,
      source,
      schemaVersion: 1,
      idempotencyKey: `legacy:${source}`,
      consent: "GRANTED",
      attempts: 0,
    });
    expect(distinctIdOf(row("BROWSER"))).toBe(visitor(5));
    expect(distinctIdOf(row("SERVER"))).toBe(visitor(5));
    expect(distinctIdOf(row("WEBHOOK"))).toBe("ph-from-somewhere");
  });
});
