import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExperimentConfig } from "@/features/experiments/core/config";
import { createExperimentServices } from "@/features/experiments/server/services";
import { createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { verifyPassword } from "@/server/auth/password";
import { DEMO_EXPERIMENT_SLUG, DEMO_TEAM_ID, seedDatabase } from "@/server/seed";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";

describe.each(databaseKinds())("on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("seeds the demo data once, with a generated admin password that signs in", async () => {
    const first = await seedDatabase(test.db, { memberPassword: "member-password-1" });
    expect(first.createdUsers.map((user) => [user.email, user.role])).toEqual([
      ["admin@verdict.local", "ADMIN"],
      ["member@verdict.local", "MEMBER"],
    ]);
    const [admin, member] = first.createdUsers;
    expect(admin?.generatedPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(member?.generatedPassword).toBeUndefined();
    expect(first.createdTeam).toBe(true);
    expect(first.createdExperiment).toBe(true);

    const stored = await test.db.user.findUniqueOrThrow({ where: { email: "admin@verdict.local" } });
    expect(stored.role).toBe("ADMIN");
    expect(await verifyPassword(admin?.generatedPassword ?? "", stored.passwordHash ?? "")).toBe(true);
    expect(await verifyPassword("wrong", stored.passwordHash ?? "")).toBe(false);
    const storedMember = await test.db.user.findUniqueOrThrow({ where: { email: "member@verdict.local" } });
    expect(await verifyPassword("member-password-1", storedMember.passwordHash ?? "")).toBe(true);

    const second = await seedDatabase(test.db, { adminPassword: "another-password" });
    expect(second).toEqual({ createdUsers: [], createdTeam: false, createdExperiment: false });
    // The second run changed nothing, not even the password.
    const unchanged = await test.db.user.findUniqueOrThrow({ where: { email: "admin@verdict.local" } });
    expect(unchanged.passwordHash).toBe(stored.passwordHash);
    expect(await test.db.user.count()).toBe(2);
    expect(await test.db.membership.count({ where: { teamId: DEMO_TEAM_ID } })).toBe(2);
  });

  it("seeds landing-hero as a running, valid visitor experiment split 50/50", async () => {
    const feature = await test.db.feature.findUniqueOrThrow({ where: { slug: DEMO_EXPERIMENT_SLUG } });
    expect(feature.type).toBe("EXPERIMENT");
    expect(feature.enabled).toBe(true);
    const config = parseExperimentConfig(feature.slug, feature.metadata);
    expect(config.status).toBe("running");
    expect(config.scope).toBe("visitor");
    expect(config.assignmentType).toBe("deterministic");
    expect(config.variants.map((variant) => [variant.name, variant.percentage])).toEqual([
      ["control", 50],
      ["treatment", 50],
    ]);
  });

  it("serves the health procedure from the database", async () => {
    const experiments = createExperimentServices(test.db, test.target);
    const caller = createCaller(createTRPCContext({ headers: new Headers(), session: null, experiments }));
    const health = await caller.health.check().finally(() => experiments.close());
    expect(health.status).toBe("ok");
    // landing-hero, the experiments behind the /pricing and /team demo pages, and the results demo.
    expect(health.runningExperiments).toBe(4);
    const newest = readdirSync("prisma/migrations", { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
      .at(-1);
    expect(health.latestMigration).toBe(newest);
  });

  it("keeps one assignment per subject, experiment and phase, with exactly one subject", async () => {
    const base = {
      experimentSlug: DEMO_EXPERIMENT_SLUG,
      variant: "control",
      assignmentType: "DETERMINISTIC" as const,
    };
    await test.db.experimentVariant.create({ data: { ...base, visitorId: "v-1" } });
    await expect(test.db.experimentVariant.create({ data: { ...base, visitorId: "v-1" } })).rejects.toThrow(
      /Unique constraint/,
    );
    // A new phase may assign the same subject again; history stays.
    await test.db.experimentVariant.create({ data: { ...base, visitorId: "v-1", phase: 2 } });
    await expect(test.db.experimentVariant.create({ data: { ...base } })).rejects.toThrow();
    await expect(
      test.db.experimentVariant.create({ data: { ...base, userId: "u-1", teamId: "t-1" } }),
    ).rejects.toThrow();
    expect(await test.db.experimentVariant.count({ where: { visitorId: "v-1" } })).toBe(2);

    // Deleting the experiment takes its assignments with it.
    await test.db.feature.delete({ where: { slug: DEMO_EXPERIMENT_SLUG } });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: DEMO_EXPERIMENT_SLUG } })).toBe(
      0,
    );
  });
});
