import { describe, expect, it } from "vitest";
import { InvalidExperimentConfigError } from "@/features/experiments/core/config";
import { ExperimentError } from "@/features/experiments/server/errors";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { databaseKinds, type TestDatabase } from "./databases";
import {
  ADMIN,
  createExperiment,
  meteredServices,
  servicesFor,
  uniqueSlug,
  withFreshServices,
} from "./experiments-fixture";

const visitors = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe.each(databaseKinds())("assignment service on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
  });

  const rowsOf = (slug: string) => test.db.experimentVariant.findMany({ where: { experimentSlug: slug } });

  it("serves nobody from a draft or an unknown experiment, and stores nothing", async () => {
    const slug = await createExperiment(services, {}, { start: false });
    expect(await services.assignments.getVariantForVisitor(slug, "v-draft")).toMatchObject({
      variant: null,
      reason: "not-running",
      isNewAssignment: false,
    });
    expect(await services.assignments.getVariantForVisitor("no-such-test", "v-draft")).toMatchObject({
      variant: null,
      reason: "unknown-experiment",
    });
    expect(await rowsOf(slug)).toHaveLength(0);
  });

  it("assigns once while running and is sticky afterwards", async () => {
    const slug = await createExperiment(services);
    const first = await services.assignments.getVariantForVisitor(slug, "v-sticky");
    expect(first.reason).toBe("assigned");
    expect(first.isNewAssignment).toBe(true);
    expect(["control", "treatment"]).toContain(first.variant);
    expect(first.isControl).toBe(first.variant === "control");
    const again = await services.assignments.getVariantForVisitor(slug, "v-sticky");
    expect(again).toMatchObject({
      variant: first.variant,
      reason: "sticky",
      isNewAssignment: false,
      phase: 1,
    });
    const rows = await rowsOf(slug);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      visitorId: "v-sticky",
      variant: first.variant,
      assignmentType: "DETERMINISTIC",
      phase: 1,
    });
  });

  it("matches the pure core's bucketing for deterministic experiments", async () => {
    const { assignVariant } = await import("@/features/experiments/core");
    const slug = await createExperiment(services, {
      variants: [
        { name: "control", percentage: 20 },
        { name: "b", percentage: 30 },
        { name: "c", percentage: 50 },
      ],
    });
    const config = (await services.catalog.getSnapshot()).experiments.get(slug)?.config;
    for (const id of visitors("det", 40)) {
      const served = await services.assignments.getVariantForVisitor(slug, id);
      expect(served.variant).toBe(assignVariant({ slug, variants: config?.variants ?? [] }, id));
    }
  });

  it("pauses: existing subjects keep their variant, new ones get none; resume enrols again", async () => {
    const slug = await createExperiment(services);
    const kept = await services.assignments.getVariantForVisitor(slug, "v-before-pause");
    await services.lifecycle.transition(slug, "pause", ADMIN);
    expect(await services.assignments.getVariantForVisitor(slug, "v-before-pause")).toMatchObject({
      variant: kept.variant,
      reason: "sticky",
    });
    expect(await services.assignments.getVariantForVisitor(slug, "v-during-pause")).toMatchObject({
      variant: null,
      reason: "not-running",
    });
    expect(await rowsOf(slug)).toHaveLength(1);
    await services.lifecycle.transition(slug, "resume", ADMIN);
    expect((await services.assignments.getVariantForVisitor(slug, "v-during-pause")).reason).toBe("assigned");
  });

  it("concludes: everyone sees the winner (control when none was chosen) and no rows are added", async () => {
    const withWinner = await createExperiment(services);
    await services.assignments.getVariantForVisitor(withWinner, "v-1");
    await services.lifecycle.transition(withWinner, "conclude", ADMIN, { winner: "treatment" });
    for (const id of ["v-1", "v-new-1", "v-new-2"]) {
      expect(await services.assignments.getVariantForVisitor(withWinner, id)).toMatchObject({
        variant: "treatment",
        reason: "concluded",
        isControl: false,
      });
    }
    expect(await rowsOf(withWinner)).toHaveLength(1);

    const noWinner = await createExperiment(services);
    await services.lifecycle.transition(noWinner, "conclude", ADMIN);
    expect(await services.assignments.getVariantForVisitor(noWinner, "v-x")).toMatchObject({
      variant: "control",
      reason: "concluded",
      isControl: true,
    });
  });

  it("refuses invalid transitions with a reason", async () => {
    const draft = await createExperiment(services, {}, { start: false });
    await expect(services.lifecycle.transition(draft, "conclude", ADMIN)).rejects.toThrow(
      "Cannot conclude an experiment that is draft",
    );
    const running = await createExperiment(services);
    await expect(
      services.lifecycle.transition(running, "conclude", ADMIN, { winner: "nope" }),
    ).rejects.toThrow('The winner "nope" is not a variant');
    await services.lifecycle.transition(running, "conclude", ADMIN);
    await expect(services.lifecycle.transition(running, "start", ADMIN)).rejects.toMatchObject({
      code: "INVALID_TRANSITION",
    });
  });

  it("evaluates targeting first: a miss gets no variant and no row", async () => {
    const slug = await createExperiment(services, {
      scope: "team",
      targetingRules: { plans: ["teams", "organization"], excludeOrganizations: true },
    });
    expect(
      await services.assignments.getVariantForTeam(slug, "team-individual", { plan: "individual" }),
    ).toMatchObject({
      variant: null,
      reason: "not-targeted",
    });
    expect(
      await services.assignments.getVariantForTeam(slug, "team-blocked", {
        plan: "teams",
        organizationId: "org-blocked",
      }),
    ).toMatchObject({ variant: null, reason: "not-targeted" });
    const hit = await services.assignments.getVariantForTeam(slug, "team-ok", { plan: "teams" });
    expect(hit.reason).toBe("assigned");
    expect((await rowsOf(slug)).map((row) => row.teamId)).toEqual(["team-ok"]);
  });

  it("applies traffic allocation: subjects outside it get no variant and no row, consistently", async () => {
    // A fixed slug: the hash is seeded by it, and some of the per-run slugs put fewer than 35 of
    // these 200 ids inside 30% (about one run in 7,000).
    const slug = await createExperiment(services, { trafficPercent: 30 }, { slug: "traffic-allocation" });
    const results = await Promise.all(
      visitors("traffic", 200).map((id) => services.assignments.getVariantForVisitor(slug, id)),
    );
    const inside = results.filter((r) => r.variant !== null);
    const outside = results.filter((r) => r.reason === "outside-traffic");
    expect(inside.length + outside.length).toBe(200);
    expect(inside.length).toBeGreaterThan(35);
    expect(inside.length).toBeLessThan(85);
    expect(await rowsOf(slug)).toHaveLength(inside.length);
    const firstOutside = visitors("traffic", 200)[
      results.findIndex((r) => r.reason === "outside-traffic")
    ] as string;
    expect((await services.assignments.getVariantForVisitor(slug, firstOutside)).reason).toBe(
      "outside-traffic",
    );
  });

  it("team scope: one row per team, and every member sees it", async () => {
    const slug = await createExperiment(services, { scope: "team" });
    const seen = await Promise.all(
      ["alice", "bob", "carol"].map(() => services.assignments.getVariantForTeam(slug, "team-shared")),
    );
    expect(new Set(seen.map((r) => r.variant)).size).toBe(1);
    expect(await rowsOf(slug)).toHaveLength(1);
    await expect(services.assignments.getVariantForUser(slug, "alice")).rejects.toMatchObject({
      code: "SCOPE_MISMATCH",
    });
  });

  it("random assignment: cryptographically drawn, stored as RANDOM, sticky", async () => {
    const slug = await createExperiment(services, { assignmentType: "random" });
    const ids = visitors("random", 60);
    const first = await Promise.all(ids.map((id) => services.assignments.getVariantForVisitor(slug, id)));
    const counts = new Map<string | null, number>();
    for (const r of first) counts.set(r.variant, (counts.get(r.variant) ?? 0) + 1);
    expect(counts.get("control")).toBeGreaterThan(10);
    expect(counts.get("treatment")).toBeGreaterThan(10);
    const again = await Promise.all(ids.map((id) => services.assignments.getVariantForVisitor(slug, id)));
    expect(again.map((r) => r.variant)).toEqual(first.map((r) => r.variant));
    expect(new Set((await rowsOf(slug)).map((row) => row.assignmentType))).toEqual(new Set(["RANDOM"]));
  });

  it("stays sticky across a weight change (keep), and re-randomizing starts a new phase", async () => {
    const slug = await createExperiment(services);
    const ids = visitors("weights", 40);
    const before = await Promise.all(ids.map((id) => services.assignments.getVariantForVisitor(slug, id)));
    expect(before.some((r) => r.variant === "treatment")).toBe(true);

    const allControl = [
      { name: "control", percentage: 100 },
      { name: "treatment", percentage: 0 },
    ];
    await expect(services.lifecycle.update(slug, { variants: allControl }, ADMIN)).rejects.toThrow(
      /needs a choice/,
    );
    await services.lifecycle.update(slug, { variants: allControl }, ADMIN, { variantChange: "keep" });
    const after = await Promise.all(ids.map((id) => services.assignments.getVariantForVisitor(slug, id)));
    expect(after.map((r) => r.variant)).toEqual(before.map((r) => r.variant));
    const newcomers = await Promise.all(
      visitors("weights-new", 20).map((id) => services.assignments.getVariantForVisitor(slug, id)),
    );
    expect(new Set(newcomers.map((r) => r.variant))).toEqual(new Set(["control"]));

    await services.lifecycle.update(slug, { variants: allControl }, ADMIN, { variantChange: "rerandomize" });
    const rerandomized = await services.assignments.getVariantForVisitor(slug, ids[0] as string);
    expect(rerandomized).toMatchObject({
      variant: "control",
      reason: "assigned",
      phase: 2,
      isNewAssignment: true,
    });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug, phase: 1 } })).toBe(60);
  });

  it("namespaces keep experiments with disjoint ranges from sharing a subject", async () => {
    const left = await createExperiment(services, { namespace: ["checkout", 0, 0.5] });
    const right = await createExperiment(services, { namespace: ["checkout", 0.5, 1] });
    const ids = visitors("ns", 60);
    for (const id of ids) {
      const [a, b] = await Promise.all([
        services.assignments.getVariantForVisitor(left, id),
        services.assignments.getVariantForVisitor(right, id),
      ]);
      expect([a.variant === null, b.variant === null].filter(Boolean)).toHaveLength(1);
      expect([a.reason, b.reason]).toContain("outside-namespace");
    }
  });

  it("50 concurrent first calls for one visitor make one row and serve one variant", async () => {
    const slug = await createExperiment(services, { assignmentType: "random" });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => services.assignments.getVariantForVisitor(slug, "v-race")),
    );
    expect(new Set(results.map((r) => r.variant)).size).toBe(1);
    expect(results.filter((r) => r.isNewAssignment)).toHaveLength(1);
    expect(await rowsOf(slug)).toHaveLength(1);
  });

  /** Services on the test database whose every query is listed, through a client extension. */
  it("costs a new subject a read and one insert, and a returning one a read only where not served before", async () => {
    const slug = await createExperiment(services);
    const first = meteredServices(test);
    const second = meteredServices(test);
    try {
      await first.services.catalog.getSnapshot();
      await second.services.catalog.getSnapshot();
      first.operations.length = 0;
      await first.services.assignments.getVariantForVisitor(slug, "v-budget");
      // The read and the insert are one hand-written statement each (the repository's shared
      // assignment read and insert; prepared statements on PostgreSQL, raw queries through this
      // extended client).
      expect(first.operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
      first.operations.length = 0;
      expect((await first.services.assignments.getVariantForVisitor(slug, "v-budget")).reason).toBe("sticky");
      expect(first.operations).toEqual([]);
      // Another instance has not served the subject: one indexed read, then none.
      second.operations.length = 0;
      expect((await second.services.assignments.getVariantForVisitor(slug, "v-budget")).reason).toBe(
        "sticky",
      );
      expect((await second.services.assignments.getVariantForVisitor(slug, "v-budget")).reason).toBe(
        "sticky",
      );
      expect(second.operations).toEqual(["raw.$queryRawUnsafe"]);
    } finally {
      await first.services.close();
      await second.services.close();
    }
  });

  it("getVariants answers a subject it served from memory, the same as the database would", async () => {
    const visitorTest = await createExperiment(services);
    const randomTest = await createExperiment(services, { assignmentType: "random" });
    const userTest = await createExperiment(services, { scope: "user" });
    const slugs = [visitorTest, randomTest, userTest];
    const { services: metered, operations } = meteredServices(test);
    const uncached = meteredServices(test, { stickyCacheEntries: 0 });
    try {
      const ids = { visitorId: "v-cache", userId: "u-cache" };
      const assigned = await metered.assignments.getVariants({ visitorId: "v-cache" }, { slugs });
      const assignedUser = await metered.assignments.getVariants(
        { userId: "u-cache" },
        { slugs: [userTest] },
      );
      operations.length = 0;
      const anonymous = await metered.assignments.getVariants({ visitorId: "v-cache" }, { slugs });
      expect(operations).toEqual([]);
      for (const slug of [visitorTest, randomTest]) {
        expect(anonymous[slug]).toMatchObject({ variant: assigned[slug]?.variant, reason: "sticky" });
      }
      // Signed in, a visitor test may be served the user's carried-over row: read, not remembered.
      const signedIn = await metered.assignments.getVariants(ids, { slugs });
      expect(operations).toEqual(["raw.$queryRawUnsafe"]);
      expect(signedIn[userTest]).toMatchObject({
        variant: assignedUser[userTest]?.variant,
        reason: "sticky",
      });
      // Without the cache every call reads, and answers the same.
      await uncached.services.catalog.getSnapshot();
      uncached.operations.length = 0;
      expect(await uncached.services.assignments.getVariants({ visitorId: "v-cache" }, { slugs })).toEqual(
        anonymous,
      );
      expect(await uncached.services.assignments.getVariants({ visitorId: "v-cache" }, { slugs })).toEqual(
        anonymous,
      );
      expect(uncached.operations).toEqual(["raw.$queryRawUnsafe", "raw.$queryRawUnsafe"]);
    } finally {
      await metered.close();
      await uncached.services.close();
    }
  });

  it("a carried-over assignment wins over the visitor's cached one once the user signs in", async () => {
    const slug = await createExperiment(services);
    const anonymous = await services.assignments.getVariants({ visitorId: "v-carried" }, { slugs: [slug] });
    const other = anonymous[slug]?.variant === "control" ? "treatment" : "control";
    // What sign-in on another device leaves behind: the user's own row in this visitor test.
    await test.db.experimentVariant.create({
      data: {
        experimentSlug: slug,
        variant: other,
        userId: "u-carried",
        assignmentType: "DETERMINISTIC",
        origin: "VISITOR_CARRYOVER",
      },
    });
    const signedIn = await services.assignments.getVariants(
      { visitorId: "v-carried", userId: "u-carried" },
      { slugs: [slug] },
    );
    expect(signedIn[slug]).toMatchObject({ variant: other, reason: "sticky" });
    const again = await services.assignments.getVariants({ visitorId: "v-carried" }, { slugs: [slug] });
    expect(again[slug]?.variant).toBe(anonymous[slug]?.variant);
  });

  it("exposing still reads the stored row of a subject this instance serves from memory", async () => {
    const exposed = await createExperiment(services);
    const other = await createExperiment(services);
    const ids = { visitorId: "v-expose-cached" };
    const first = await services.assignments.getVariants(ids, { slugs: [exposed, other] });
    const { services: metered, operations } = meteredServices(test);
    try {
      await metered.assignments.getVariants(ids, { slugs: [exposed, other] });
      operations.length = 0;
      const served = await metered.assignments.getVariantsWithRows(ids, {
        slugs: [exposed, other],
        expose: { slugs: [exposed], consent: "granted" },
      });
      // One read, for the exposed experiment only; the other answers from memory.
      expect(operations).toEqual(["raw.$queryRawUnsafe"]);
      expect(served.results[exposed]).toMatchObject({ variant: first[exposed]?.variant, reason: "sticky" });
      expect(served.results[other]).toMatchObject({ variant: first[other]?.variant, reason: "sticky" });
      expect(served.stickyRows.get(exposed)).toMatchObject({
        visitorId: "v-expose-cached",
        firstExposedAt: null,
      });
      expect(served.stickyRows.has(other)).toBe(false);
    } finally {
      await metered.close();
    }
  });

  it("an experiment deleted and created again does not serve its predecessor's remembered variants", async () => {
    const slug = await createExperiment(services, { assignmentType: "random" });
    const served = new Map<string, string | null>();
    for (const id of visitors("phase-cache", 12)) {
      served.set(id, (await services.assignments.getVariantForVisitor(slug, id)).variant);
    }
    await services.lifecycle.delete(slug, ADMIN);
    await createExperiment(services, { assignmentType: "random" }, { slug });
    let reassigned = 0;
    for (const id of served.keys()) {
      const again = await services.assignments.getVariants({ visitorId: id }, { slugs: [slug] });
      expect(again[slug]).toMatchObject({ reason: "assigned", isNewAssignment: true });
      if (again[slug]?.variant !== served.get(id)) reassigned += 1;
    }
    expect(await rowsOf(slug)).toHaveLength(12);
    // A coin flip per visitor: 12 equal draws would be a 1-in-2,048 accident.
    expect(reassigned).toBeGreaterThan(0);
  });

  it("getVariants serves every running experiment for a request's subjects in one call", async () => {
    const visitorTest = await createExperiment(services);
    const userTest = await createExperiment(services, { scope: "user" });
    const draft = await createExperiment(services, {}, { start: false });
    const all = await services.assignments.getVariants({ visitorId: "v-multi", userId: "u-multi" });
    expect(all[visitorTest]?.reason).toBe("assigned");
    expect(all[userTest]?.reason).toBe("assigned");
    expect(all[draft]).toMatchObject({ variant: null, reason: "not-running" });
    const again = await services.assignments.getVariants(
      { visitorId: "v-multi" },
      { slugs: [visitorTest, userTest] },
    );
    expect(again[visitorTest]).toMatchObject({ variant: all[visitorTest]?.variant, reason: "sticky" });
    expect(again[userTest]).toMatchObject({ variant: null, reason: "missing-subject" });
  });

  it("getVariants also takes one { kind, id } subject and a list of slugs (the issue's form)", async () => {
    const visitorTest = await createExperiment(services);
    const userTest = await createExperiment(services, { scope: "user" });
    const subject = { kind: "visitor", id: "v-subject-form" } as const;

    const first = await services.assignments.getVariants(subject, [visitorTest]);
    expect(Object.keys(first)).toEqual([visitorTest]);
    expect(first[visitorTest]).toMatchObject({ reason: "assigned", isNewAssignment: true });
    expect(["control", "treatment"]).toContain(first[visitorTest]?.variant);
    expect(await rowsOf(visitorTest)).toMatchObject([{ visitorId: "v-subject-form" }]);

    // The same subject through every other shape sees the same stored row.
    const asIds = await services.assignments.getVariants({ visitorId: "v-subject-form" }, [visitorTest]);
    expect(asIds[visitorTest]).toMatchObject({ variant: first[visitorTest]?.variant, reason: "sticky" });
    const withOptions = await services.assignments.getVariants(subject, { slugs: [visitorTest, userTest] });
    expect(withOptions[visitorTest]).toMatchObject({
      variant: first[visitorTest]?.variant,
      reason: "sticky",
    });
    expect(withOptions[userTest]).toMatchObject({ variant: null, reason: "missing-subject" });
    const everything = await services.assignments.getVariants(subject);
    expect(everything[visitorTest]?.reason).toBe("sticky");
    expect(everything[userTest]?.reason).toBe("missing-subject");

    const user = await services.assignments.getVariants({ kind: "user", id: "u-subject-form" }, [userTest]);
    expect(user[userTest]).toMatchObject({ reason: "assigned", isNewAssignment: true });
    expect((await rowsOf(userTest)).map((row) => row.userId)).toEqual(["u-subject-form"]);
  });

  it("getVariants with a subject passes attributes to targeting in either form", async () => {
    const slug = await createExperiment(services, { scope: "team", targetingRules: { plans: ["teams"] } });
    const team = { kind: "team", id: "team-subject-form" } as const;
    expect(
      (await services.assignments.getVariants(team, [slug], { plan: "individual" }))[slug],
    ).toMatchObject({
      variant: null,
      reason: "not-targeted",
    });
    expect(
      (await services.assignments.getVariants(team, { slugs: [slug], attributes: { plan: "teams" } }))[slug]
        ?.reason,
    ).toBe("assigned");
    await expect(
      services.assignments.getVariants({ kind: "org", id: "x" } as never, [slug]),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it("a running experiment whose Feature row is disabled serves nobody and stores nothing", async () => {
    const slug = await createExperiment(services);
    const enrolled = await services.assignments.getVariantForVisitor(slug, "v-before-off");
    expect(enrolled.reason).toBe("assigned");
    // Switched off behind the lifecycle's back (a kill switch, a manual edit): metadata still says running.
    await test.db.feature.update({ where: { slug }, data: { enabled: false } });
    services.catalog.invalidate();
    for (const id of ["v-before-off", "v-while-off"]) {
      expect(await services.assignments.getVariantForVisitor(slug, id)).toMatchObject({
        variant: null,
        reason: "not-running",
        isNewAssignment: false,
      });
      expect(await services.assignments.peekVariant(slug, { kind: "visitor", id })).toMatchObject({
        variant: null,
        reason: "not-running",
      });
    }
    const batch = await services.assignments.getVariants({ visitorId: "v-batch-off" }, [slug]);
    expect(batch[slug]).toMatchObject({ variant: null, reason: "not-running" });
    expect((await rowsOf(slug)).map((row) => row.visitorId)).toEqual(["v-before-off"]);

    // Switched on again, the enrolled subject is back on their variant.
    await test.db.feature.update({ where: { slug }, data: { enabled: true } });
    services.catalog.invalidate();
    expect(await services.assignments.getVariantForVisitor(slug, "v-before-off")).toMatchObject({
      variant: enrolled.variant,
      reason: "sticky",
    });
  });

  it("a paused experiment (disabled by design) still serves its enrolled subjects", async () => {
    const slug = await createExperiment(services);
    const kept = await services.assignments.getVariantForVisitor(slug, "v-paused-kept");
    await services.lifecycle.transition(slug, "pause", ADMIN);
    expect((await test.db.feature.findUniqueOrThrow({ where: { slug } })).enabled).toBe(false);
    expect(
      await services.assignments.getVariants({ kind: "visitor", id: "v-paused-kept" }, [slug]),
    ).toMatchObject({
      [slug]: { variant: kept.variant, reason: "sticky" },
    });
  });

  it("peekVariant does not invent a variant for a random experiment's unenrolled subject", async () => {
    const slug = await createExperiment(services, { assignmentType: "random" });
    const peeked = await services.assignments.peekVariant(slug, { kind: "visitor", id: "v-peek-random" });
    expect(peeked).toMatchObject({ variant: null, reason: "would-assign-randomly", isControl: false });
    expect(await rowsOf(slug)).toHaveLength(0);
    const real = await services.assignments.getVariantForVisitor(slug, "v-peek-random");
    expect(
      await services.assignments.peekVariant(slug, { kind: "visitor", id: "v-peek-random" }),
    ).toMatchObject({ variant: real.variant, reason: "sticky" });
  });

  it("peekVariant tells what a subject would get without enrolling them", async () => {
    const slug = await createExperiment(services);
    const peeked = await services.assignments.peekVariant(slug, { kind: "visitor", id: "v-peek" });
    expect(peeked.reason).toBe("assigned");
    expect(await rowsOf(slug)).toHaveLength(0);
    const real = await services.assignments.getVariantForVisitor(slug, "v-peek");
    expect(real.variant).toBe(peeked.variant);
    expect((await services.assignments.peekVariant(slug, { kind: "visitor", id: "v-peek" })).reason).toBe(
      "sticky",
    );
  });

  it("reports stored metadata that parses field by field but cannot be served, by name", async () => {
    const good = await createExperiment(services);
    const broken = uniqueSlug("unservable");
    await test.db.feature.create({
      data: {
        slug: broken,
        type: "EXPERIMENT",
        enabled: true,
        metadata: {
          variants: [
            { name: "blue", percentage: 100 },
            { name: "green", percentage: 50 },
          ],
          scope: "visitor",
          status: "concluded",
          winnerVariant: "nope",
        },
      },
    });
    services.catalog.invalidate();
    try {
      const error = await services.assignments.getVariantForVisitor(broken, "v-1").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidExperimentConfigError);
      expect((error as InvalidExperimentConfigError).issues).toEqual([
        'variants: Exactly one variant is named "control" (found 0).',
        "variants: Percentages must add up to 100 (they add up to 150).",
        'winnerVariant: The winner "nope" is not a variant of this experiment (blue, green).',
      ]);
      const all = await services.assignments.getVariants({ visitorId: "v-unservable" });
      expect(all[broken]).toMatchObject({ variant: null, reason: "invalid-config" });
      expect(all[good]?.reason).toBe("assigned");
    } finally {
      await test.db.feature.delete({ where: { slug: broken } });
      services.catalog.invalidate();
    }
  });

  it("reports bad stored configuration by name, without breaking other experiments", async () => {
    const good = await createExperiment(services);
    const broken = uniqueSlug("broken");
    await test.db.feature.create({
      data: { slug: broken, type: "EXPERIMENT", enabled: true, metadata: { variants: "fifty-fifty" } },
    });
    services.catalog.invalidate();
    const error = await services.assignments.getVariantForVisitor(broken, "v-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidExperimentConfigError);
    expect((error as Error).message).toContain(`Experiment "${broken}" has an invalid configuration`);
    const all = await services.assignments.getVariants({ visitorId: "v-1" });
    expect(all[broken]).toMatchObject({ variant: null, reason: "invalid-config" });
    expect(all[good]?.reason).toBe("assigned");
    await test.db.feature.delete({ where: { slug: broken } });
    services.catalog.invalidate();
  });

  it("refuses a concurrent edit made from a stale version", async () => {
    const slug = await createExperiment(services, {}, { start: false });
    const current = (await services.catalog.getSnapshot()).experiments.get(slug);
    await services.lifecycle.update(slug, { trafficPercent: 80 }, ADMIN, {
      expectedVersion: current?.version,
    });
    await expect(
      services.lifecycle.update(slug, { trafficPercent: 60 }, ADMIN, { expectedVersion: current?.version }),
    ).rejects.toMatchObject({ code: "VERSION_CONFLICT" });
    const audit = await test.db.auditLog.findMany({
      where: { experimentSlug: slug },
      orderBy: { at: "asc" },
    });
    expect(audit.map((row) => row.action)).toEqual(["create", "update"]);
  });

  it("a change made through one instance reaches another within a second", async () => {
    const other = servicesFor(test, { catalogMaxAgeMs: 60_000 });
    await other.listening;
    try {
      const slug = await createExperiment(services);
      expect((await other.assignments.getVariantForVisitor(slug, "v-remote")).reason).toBe("assigned");
      await services.lifecycle.transition(slug, "conclude", ADMIN, { winner: "treatment" });
      const deadline = Date.now() + 1_000;
      let seen = await other.assignments.getVariantForVisitor(slug, "v-remote");
      while (seen.reason !== "concluded" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = await other.assignments.getVariantForVisitor(slug, "v-remote");
      }
      expect(seen).toMatchObject({ variant: "treatment", reason: "concluded" });
    } finally {
      await other.close();
    }
  });
});

describe("when the database is down", () => {
  it("fails visibly with ASSIGNMENT_UNAVAILABLE instead of turning the experiment off", async () => {
    const { createDatabase } = await import("@/server/db/client");
    const { createExperimentServices } = await import("@/features/experiments/server/services");
    const handle = createDatabase(
      { kind: "postgres", url: "postgresql://postgres@127.0.0.1:1/verdict" },
      { poolSize: 1 },
    );
    const services = createExperimentServices(handle.db, {
      kind: "postgres",
      url: "postgresql://postgres@127.0.0.1:1/verdict",
    });
    await services.listening.catch(() => {});
    const error = await services.assignments
      .getVariantForVisitor("landing-hero", "v-1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExperimentError);
    expect(error).toMatchObject({ code: "ASSIGNMENT_UNAVAILABLE" });
    await services.close();
    await handle.close();
  });
});
