import { describe, expect, it } from "vitest";
import type { NewAssignment } from "@/features/experiments/server/repository";
import { databaseKinds } from "./databases";
import { createExperiment, freshServices, meteredServices } from "./experiments-fixture";

/**
 * A busy server's requests ask the database the same questions about different subjects: those
 * asked during one turn of the event loop share one statement (server/db/coalesce.ts), and each
 * request must get exactly the answer it would have had alone.
 */
describe.each(databaseKinds())("statements shared by concurrent requests on %s", (kind) => {
  const context = freshServices(kind);

  it("reads the assignments that requests ask for in one turn together, each request getting its own", async () => {
    const visitorTest = await createExperiment(context.services);
    const otherVisitorTest = await createExperiment(context.services);
    const userTest = await createExperiment(context.services, { scope: "user" });
    const requests = [
      { ids: { visitorId: "v-batch-1" }, slugs: [visitorTest, otherVisitorTest] },
      { ids: { visitorId: "v-batch-2" }, slugs: [visitorTest] },
      { ids: { visitorId: "v-batch-3" }, slugs: [otherVisitorTest] },
      { ids: { visitorId: "v-batch-4" }, slugs: [visitorTest, otherVisitorTest] },
      { ids: { visitorId: "v-batch-5", userId: "u-batch-5" }, slugs: [visitorTest, userTest] },
      { ids: { visitorId: "v-batch-6", userId: "u-batch-6" }, slugs: [userTest] },
    ];
    // Every subject but the fourth is stored; one at a time, so every answer is the stored row's.
    const stored = [];
    for (const request of requests.slice(0, 3).concat(requests.slice(4)))
      stored.push(await context.services.assignments.getVariants(request.ids, { slugs: request.slugs }));
    const { services: metered, operations } = meteredServices(context.test, { stickyCacheEntries: 0 });
    try {
      await metered.catalog.getSnapshot();
      operations.length = 0;
      const answers = await Promise.all(
        requests.map((request) => metered.assignments.getVariants(request.ids, { slugs: request.slugs })),
      );
      // One read per combination of ids (visitor; user and visitor), and one insert for the new visitor.
      expect(operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
      const expected = [...stored.slice(0, 3), null, ...stored.slice(3)];
      answers.forEach((answer, index) => {
        const before = expected[index];
        if (!before) {
          for (const slug of requests[index]?.slugs ?? []) expect(answer[slug]?.reason).toBe("assigned");
          return;
        }
        expect(Object.keys(answer)).toEqual(requests[index]?.slugs);
        for (const [slug, served] of Object.entries(answer))
          expect(served).toMatchObject({ variant: before[slug]?.variant, reason: "sticky" });
      });
      // The rows each request gets from a shared read are the ones it would have read alone.
      const idsOf = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
      const alone = [];
      for (const request of requests)
        alone.push(idsOf(await metered.repository.findAssignmentsForSubjects(request.ids, request.slugs)));
      const together = await Promise.all(
        requests.map((request) => metered.repository.findAssignmentsForSubjects(request.ids, request.slugs)),
      );
      expect(together.map(idsOf)).toEqual(alone);
      expect(alone.map((rows) => rows.length)).toEqual([2, 1, 1, 2, 2, 1]);
    } finally {
      await metered.close();
    }
  });

  it("reads single-experiment calls of one turn together, each served only from its own phase's row", async () => {
    const slug = await createExperiment(context.services);
    const stored = await context.services.assignments.getVariantForVisitor(slug, "v-single-stored");
    // A row of another phase (as one restarted later would leave) is not this phase's assignment.
    await context.services.repository.insertAssignments([
      {
        experimentSlug: slug,
        phase: 7,
        variant: "treatment",
        subject: { kind: "visitor", id: "v-single-other-phase" },
        assignmentType: "DETERMINISTIC",
      },
    ]);
    const { services: metered, operations } = meteredServices(context.test, { stickyCacheEntries: 0 });
    try {
      await metered.catalog.getSnapshot();
      operations.length = 0;
      const [again, otherPhase, fresh, peeked] = await Promise.all([
        metered.assignments.getVariantForVisitor(slug, "v-single-stored"),
        metered.assignments.getVariantForVisitor(slug, "v-single-other-phase"),
        metered.assignments.getVariantForVisitor(slug, "v-single-new"),
        metered.assignments.peekVariant(slug, { kind: "visitor", id: "v-single-stored" }),
      ]);
      // One read for the four calls, one insert for the two enrolments.
      expect(operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
      expect(again).toMatchObject({ variant: stored.variant, reason: "sticky", isNewAssignment: false });
      expect(peeked).toMatchObject({ variant: stored.variant, reason: "sticky" });
      expect(otherPhase).toMatchObject({ reason: "assigned", isNewAssignment: true, phase: 1 });
      expect(fresh).toMatchObject({ reason: "assigned", isNewAssignment: true, phase: 1 });
      const phases = await context.test.db.experimentVariant.findMany({
        where: { experimentSlug: slug, visitorId: "v-single-other-phase" },
        select: { phase: true },
        orderBy: { phase: "asc" },
      });
      expect(phases).toEqual([{ phase: 1 }, { phase: 7 }]);
    } finally {
      await metered.close();
    }
  });

  it("enrolls the new subjects of one turn with one insert, and the same subject twice only once", async () => {
    const slug = await createExperiment(context.services);
    const { services: metered, operations } = meteredServices(context.test, { stickyCacheEntries: 0 });
    try {
      await metered.catalog.getSnapshot();
      operations.length = 0;
      const visitors = ["v-enrol-1", "v-enrol-2", "v-enrol-3", "v-enrol-1"];
      const answers = await Promise.all(
        visitors.map((visitorId) => metered.assignments.getVariants({ visitorId }, { slugs: [slug] })),
      );
      // One read for the four requests, one insert for them, and one read of the row that the
      // repeated visitor's second request lost to its first.
      expect(operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
      expect(answers.map((answer) => answer[slug]?.reason)).toEqual([
        "assigned",
        "assigned",
        "assigned",
        "sticky",
      ]);
      expect(answers[3]?.[slug]?.variant).toBe(answers[0]?.[slug]?.variant);
      const rows = await context.test.db.experimentVariant.findMany({ where: { experimentSlug: slug } });
      expect(rows.map((row) => [row.visitorId, row.variant]).sort()).toEqual(
        visitors
          .slice(0, 3)
          .map((visitorId, index) => [visitorId, answers[index]?.[slug]?.variant])
          .sort(),
      );
    } finally {
      await metered.close();
    }
  });

  it("fails only the request whose row breaks a constraint when inserts share a statement", async () => {
    const slug = await createExperiment(context.services);
    const row = (visitorId: string, experimentSlug = slug): NewAssignment => ({
      experimentSlug,
      phase: 1,
      variant: "control",
      subject: { kind: "visitor", id: visitorId },
      assignmentType: "DETERMINISTIC",
    });
    const { repository } = context.services;
    const [good, bad, alsoGood] = await Promise.allSettled([
      repository.insertAssignments([row("v-isolated-1")]),
      // No such experiment: the foreign key refuses the row.
      repository.insertAssignments([row("v-isolated-2", "no-such-experiment")]),
      repository.insertAssignments([row("v-isolated-3")]),
    ]);
    expect(good).toMatchObject({ status: "fulfilled", value: [{ visitorId: "v-isolated-1" }] });
    expect(bad?.status).toBe("rejected");
    expect(alsoGood).toMatchObject({ status: "fulfilled", value: [{ visitorId: "v-isolated-3" }] });
    expect(await context.test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(2);
  });
});
