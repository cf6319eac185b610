import { describe, expect, it, vi } from "vitest";
import { assignmentsForRequest } from "@/features/experiments/server/request-assignments";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, meteredServices, withFreshServices } from "./experiments-fixture";

const visitor = (n: number) => `5a1e${String(n).padStart(4, "0")}-2222-4333-8444-555566667777`;

/**
 * A page that renders a variant on the server records its exposure there: a new subject's
 * assignment and exposure are written together, a returning subject is exposed once.
 */
describe.each(databaseKinds())("exposures recorded during server rendering on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;

  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
  });

  const exposures = (slug: string) =>
    test.db.event.findMany({ where: { experimentSlug: slug, name: "experiment_viewed" } });

  it("writes a new subject's assignment and exposure together, stamped at the same instant", async () => {
    const slug = await createExperiment(services, { setPersonProperty: true });
    const other = await createExperiment(services);
    const served = await assignmentsForRequest(services, {
      session: null,
      visitorId: visitor(1),
      slugs: [slug, other],
      expose: { slugs: [slug], consent: "granted" },
    });
    const variant = served.assignments[slug]?.variant;
    expect(served.assignments[slug]?.reason).toBe("assigned");

    const row = await test.db.experimentVariant.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(row.firstExposedAt).toEqual(row.assignedAt);
    const [event, ...more] = await exposures(slug);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      visitorId: visitor(1),
      variant,
      phase: 1,
      source: "SERVER",
      consent: "GRANTED",
      deliveryStatus: "PENDING",
      occurredAt: row.assignedAt,
      idempotencyKey: `exposure:${slug}:1:visitor:${visitor(1)}`,
    });
    expect(event?.properties).toEqual({
      experiment_slug: slug,
      variant,
      assignment_type: "deterministic",
      [`$feature/${slug}`]: variant,
      $set: { [`experiment_${slug}`]: variant },
    });

    // The experiment the page did not render stays unexposed, for its client hook to record.
    const unexposed = await test.db.experimentVariant.findFirstOrThrow({ where: { experimentSlug: other } });
    expect(unexposed.firstExposedAt).toBeNull();
    expect(await exposures(other)).toEqual([]);

    // A client hook reporting the same view later is a duplicate.
    expect(
      await services.events.recordExposure({
        ids: { visitorId: visitor(1) },
        source: "BROWSER",
        consent: "granted",
        slug,
        variant: variant as string,
      }),
    ).toBe("duplicate");
  });

  it("exposes a subject enrolled earlier once, however many pages render it", async () => {
    const slug = await createExperiment(services);
    await services.assignments.getVariantForVisitor(slug, visitor(2));
    for (let page = 0; page < 3; page++) {
      await assignmentsForRequest(services, {
        session: null,
        visitorId: visitor(2),
        slugs: [slug],
        expose: { slugs: [slug], consent: "pending" },
      });
    }
    const events = await exposures(slug);
    expect(events).toHaveLength(1);
    // Until the visitor answers the banner, the event waits in the store.
    expect(events[0]).toMatchObject({ source: "SERVER", consent: "PENDING", deliveryStatus: "HELD" });
  });

  it("serves and exposes a returning subject from one read, and writes nothing once it is exposed", async () => {
    const slug = await createExperiment(services);
    await services.assignments.getVariantForVisitor(slug, visitor(7));
    const metered = meteredServices(test);
    const render = () =>
      assignmentsForRequest(metered.services, {
        session: null,
        visitorId: visitor(7),
        slugs: [slug],
        expose: { slugs: [slug], consent: "pending" },
      });
    const reads = vi.spyOn(metered.services.repository, "findAssignmentsForSubjects");
    try {
      await metered.services.catalog.getSnapshot();
      metered.operations.length = 0;
      // The first page exposes: the read that serves the variant, then one statement that stamps
      // the exposure and writes its event.
      expect((await render()).assignments[slug]?.reason).toBe("sticky");
      expect(reads).toHaveBeenCalledTimes(1);
      expect(metered.operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
      // Later pages: the read that serves them says it is exposed, and nothing else runs.
      await render();
      await render();
      expect(reads).toHaveBeenCalledTimes(3);
      expect(metered.operations).toHaveLength(4);
    } finally {
      reads.mockRestore();
      await metered.services.close();
    }
    expect(await exposures(slug)).toHaveLength(1);
  });

  it("writes one exposure when concurrent first requests race for one new subject", async () => {
    const slug = await createExperiment(services);
    const requests = await Promise.all(
      Array.from({ length: 8 }, () =>
        assignmentsForRequest(services, {
          session: null,
          visitorId: visitor(3),
          slugs: [slug],
          expose: { slugs: [slug], consent: "not-required" },
        }),
      ),
    );
    const variants = new Set(requests.map((request) => request.assignments[slug]?.variant));
    expect(variants.size).toBe(1);
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(1);
    expect(await exposures(slug)).toHaveLength(1);
  });

  it("records nothing for a forced preview or a subject outside the test", async () => {
    const slug = await createExperiment(services, { allowForcedVariants: true, trafficPercent: 0 });
    await assignmentsForRequest(services, {
      session: null,
      visitorId: visitor(4),
      slugs: [slug],
      expose: { slugs: [slug], consent: "granted" },
    });
    await assignmentsForRequest(services, {
      session: null,
      visitorId: visitor(5),
      slugs: [slug],
      forced: { [slug]: "treatment" },
      expose: { slugs: [slug], consent: "granted" },
    });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(0);
    expect(await exposures(slug)).toEqual([]);
  });
});
