import type { Session } from "next-auth";
import { describe, expect, it } from "vitest";
import { carryOverVisitorAssignments } from "@/features/experiments/server/carry-over";
import { assignmentsForRequest } from "@/features/experiments/server/request-assignments";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { DEMO_TEAM_ID } from "@/server/seed";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, meteredServices, withFreshServices } from "./experiments-fixture";

const visitor = (n: number) => `7d3c${String(n).padStart(4, "0")}-1111-4222-8333-444455556666`;

describe.each(databaseKinds())("request assignments and events on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let member: Session;
  let admin: Session;

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    const users = await test.db.user.findMany({ select: { id: true, email: true, role: true } });
    const sessionOf = (role: "ADMIN" | "MEMBER"): Session => {
      const user = users.find((candidate) => candidate.role === role);
      if (!user) throw new Error(`no ${role} seeded`);
      return {
        user: { id: user.id, email: user.email, role },
        expires: new Date(Date.now() + 3600_000).toISOString(),
      };
    };
    member = sessionOf("MEMBER");
    admin = sessionOf("ADMIN");
  });

  it("resolves every experiment for a request: visitor cookie, signed-in user and their team", async () => {
    const anonymous = await assignmentsForRequest(services, { session: null, visitorId: visitor(1) });
    expect(anonymous.identity).toEqual({ userId: null, teamId: null, visitorId: visitor(1) });
    expect(anonymous.assignments["landing-hero"]).toMatchObject({ reason: "assigned", version: 1 });
    expect(anonymous.assignments["pricing-page"]).toMatchObject({ variant: null, reason: "missing-subject" });

    const signedIn = await assignmentsForRequest(services, { session: member, visitorId: visitor(1) });
    expect(signedIn.identity).toEqual({
      userId: member.user.id,
      teamId: DEMO_TEAM_ID,
      visitorId: visitor(1),
    });
    expect(signedIn.assignments["landing-hero"]).toMatchObject({
      variant: anonymous.assignments["landing-hero"]?.variant,
      reason: "sticky",
    });
    expect(signedIn.assignments["pricing-page"]?.reason).toBe("assigned");
    const teammate = await assignmentsForRequest(services, { session: admin, visitorId: visitor(2) });
    expect(teammate.assignments["team-dashboard-layout"]?.variant).toBe(
      signedIn.assignments["team-dashboard-layout"]?.variant,
    );
  });

  it("applies a forced variant only where allowed, and never writes an assignment for it", async () => {
    const slug = await createExperiment(services);
    const forced = { [slug]: "treatment" };
    const asAdmin = await assignmentsForRequest(services, { session: admin, visitorId: visitor(10), forced });
    expect(asAdmin.assignments[slug]).toMatchObject({ variant: "treatment", reason: "forced" });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(0);

    const asVisitor = await assignmentsForRequest(services, {
      session: null,
      visitorId: visitor(11),
      forced,
    });
    expect(asVisitor.assignments[slug]?.reason).toBe("assigned");

    const open = await createExperiment(services, { allowForcedVariants: true });
    const previewed = await assignmentsForRequest(services, {
      session: null,
      visitorId: visitor(12),
      forced: { [open]: "treatment", "landing-hero": "no-such-variant" },
    });
    expect(previewed.assignments[open]?.reason).toBe("forced");
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: open } })).toBe(0);
  });

  it("records one exposure per subject and phase, however many times it is sent", async () => {
    const slug = await createExperiment(services);
    const ids = { visitorId: visitor(20) };
    const { variant } = await services.assignments.getVariantForVisitor(slug, visitor(20));
    const common = { ids, source: "BROWSER" as const, consent: "granted" as const };
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        services.events.recordExposure({ ...common, slug, variant: variant as string }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "recorded")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(9);
    const events = await test.db.event.findMany({
      where: { experimentSlug: slug, name: "experiment_viewed" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      variant,
      phase: 1,
      visitorId: visitor(20),
      consent: "GRANTED",
      deliveryStatus: "PENDING",
    });
    expect(events[0]?.properties).toMatchObject({ [`$feature/${slug}`]: variant, experiment_slug: slug });
    const row = await test.db.experimentVariant.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(row.firstExposedAt).not.toBeNull();

    const other = variant === "control" ? "treatment" : "control";
    // What the row already says (here: carried over from an earlier visitor id) is kept.
    await test.db.experimentVariant.update({
      where: { id: row.id },
      data: { metadata: { carriedFromVisitor: "visitor-before-sign-in" } },
    });
    expect(await services.events.recordExposure({ ...common, slug, variant: other })).toBe(
      "variant-mismatch",
    );
    const flagged = await test.db.experimentVariant.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(flagged.metadata).toEqual({
      carriedFromVisitor: "visitor-before-sign-in",
      seenInOtherVariant: other,
      flaggedAt: expect.any(String),
    });
    expect(await test.db.event.count({ where: { experimentSlug: slug, name: "experiment_viewed" } })).toBe(1);
    expect(
      await services.events.recordExposure({
        ...common,
        ids: { visitorId: visitor(21) },
        slug,
        variant: "control",
      }),
    ).toBe("not-enrolled");
  });

  it("writes a batch's exposures in one statement and its conversions in another; racing batches expose once", async () => {
    const first = await createExperiment(services);
    const second = await createExperiment(services);
    const ids = { visitorId: visitor(30) };
    const served = await services.assignments.getVariants(ids, { slugs: [first, second] });
    const batch = (n: number) => [
      { type: "exposure" as const, slug: first, variant: served[first]?.variant as string },
      { type: "exposure" as const, slug: second, variant: served[second]?.variant as string },
      { type: "conversion" as const, slug: first, event: "signup", idempotencyKey: `batch-key-${n}` },
    ];
    const common = { ids, source: "BROWSER" as const, consent: "granted" as const };
    const metered = meteredServices(test);
    try {
      await metered.services.catalog.getSnapshot();
      metered.operations.length = 0;
      const outcomes = await Promise.all(
        [1, 2, 3, 4].map((n) => metered.services.events.recordBatch(common, batch(n))),
      );
      // One read shared by the four batches (asked in one turn), then per batch one statement for
      // its exposures and one for its conversion.
      expect(metered.operations).toEqual(Array.from({ length: 9 }, () => "raw.$queryRawUnsafe"));
      for (const index of [0, 1])
        expect(outcomes.map((outcome) => outcome[index]).sort()).toEqual([
          "duplicate",
          "duplicate",
          "duplicate",
          "recorded",
        ]);
      expect(outcomes.map((outcome) => outcome[2])).toEqual(["recorded", "recorded", "recorded", "recorded"]);
    } finally {
      await metered.services.close();
    }
    for (const slug of [first, second]) {
      const events = await test.db.event.findMany({
        where: { experimentSlug: slug, name: "experiment_viewed" },
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        variant: served[slug]?.variant,
        visitorId: visitor(30),
        source: "BROWSER",
      });
      const row = await test.db.experimentVariant.findFirstOrThrow({ where: { experimentSlug: slug } });
      expect(row.firstExposedAt).toEqual(events[0]?.receivedAt);
    }
    expect(
      await test.db.event.count({ where: { experimentSlug: first, name: "experiment_conversion" } }),
    ).toBe(4);
  });

  it("records conversions once per idempotency key, only listed events, without PII", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    await services.assignments.getVariantForVisitor(slug, visitor(30));
    const base = {
      ids: { visitorId: visitor(30) },
      source: "BROWSER" as const,
      consent: "pending" as const,
      slug,
    };
    const properties = { plan: "teams", email: "someone@example.com", ip: "203.0.113.9" };
    expect(
      await services.events.recordConversion({
        ...base,
        event: "signup",
        idempotencyKey: "conv-key-1",
        properties,
      }),
    ).toBe("recorded");
    expect(
      await services.events.recordConversion({
        ...base,
        event: "signup",
        idempotencyKey: "conv-key-1",
        properties,
      }),
    ).toBe("duplicate");
    expect(
      await services.events.recordConversion({ ...base, event: "cta_click", idempotencyKey: "conv-key-2" }),
    ).toBe("not-a-conversion-event");
    const [event] = await test.db.event.findMany({
      where: { experimentSlug: slug, name: "experiment_conversion" },
    });
    expect(event?.properties).toMatchObject({ plan: "teams", conversion_event: "signup" });
    expect(event?.properties).not.toHaveProperty("email");
    expect(event?.properties).not.toHaveProperty("ip");
    expect(event).toMatchObject({ consent: "PENDING", deliveryStatus: "HELD" });
  });

  it("carries a visitor's assignments over to the user who signs in, once, counted once", async () => {
    const slug = await createExperiment(services);
    const before = await services.assignments.getVariantForVisitor(slug, visitor(40));
    expect(await carryOverVisitorAssignments(test.db, visitor(40), member.user.id)).toBeGreaterThan(0);
    expect(await carryOverVisitorAssignments(test.db, visitor(40), member.user.id)).toBe(0);
    const carried = await test.db.experimentVariant.findFirstOrThrow({
      where: { experimentSlug: slug, userId: member.user.id },
    });
    expect(carried).toMatchObject({ origin: "VISITOR_CARRYOVER", variant: before.variant });
    // The same user on another device (a new visitor id) sees the same variant, and no new row is made.
    const elsewhere = await assignmentsForRequest(services, {
      session: member,
      visitorId: visitor(41),
      slugs: [slug],
    });
    expect(elsewhere.assignments[slug]).toMatchObject({ variant: before.variant, reason: "sticky" });
    expect(
      await test.db.experimentVariant.count({ where: { experimentSlug: slug, visitorId: visitor(41) } }),
    ).toBe(0);
    expect((await services.admin.stats(slug)).total).toBe(1);
  });

  it("takes batched events over HTTP for the subject its cookie proves", async () => {
    const handler = createTRPCHttpHandler({ getSession: async () => null, experiments: services });
    const slug = await createExperiment(services);
    const cookie = `verdict_vid=${visitor(50)}; verdict_consent=granted`;
    const served = await handler(
      new Request(
        `http://localhost/api/trpc/experiments.forRequest?input=${encodeURIComponent(JSON.stringify({ json: { slugs: [slug] } }))}`,
        {
          headers: { cookie, "x-forwarded-for": "198.51.100.7" },
        },
      ),
    );
    const variant = (await served.json()).result.data.json.assignments[slug].variant;
    const track = (events: unknown[]) =>
      handler(
        new Request("http://localhost/api/trpc/events.track", {
          method: "POST",
          headers: { cookie, "content-type": "application/json", "x-forwarded-for": "198.51.100.7" },
          body: JSON.stringify({ json: { events } }),
        }),
      );
    const response = await track([
      { type: "exposure", slug, variant },
      { type: "exposure", slug, variant },
    ]);
    expect(response.status).toBe(200);
    expect((await response.json()).result.data.json.outcomes).toEqual(["recorded", "duplicate"]);
    const before = await test.db.event.count();
    const bad = await track([
      { type: "conversion", slug, event: "signup", idempotencyKey: "valid-key-123" },
      { type: "exposure", slug: "Not A Slug", variant },
    ]);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("slug");
    // One bad event refuses the whole batch: nothing from it is stored.
    expect(await test.db.event.count()).toBe(before);
  });
});
