import { describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { DEMO_TEAM_ID } from "@/server/seed";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

describe.each(databaseKinds())("targeting preview and slug checks on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let orgTeamId: string;
  let memberId: string;

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    const orgTeam = await test.db.team.create({
      data: { name: "Acme Org", plan: "ORGANIZATION", organizationId: "org-acme" },
    });
    orgTeamId = orgTeam.id;
    const member = await test.db.user.findFirstOrThrow({ where: { role: "MEMBER" } });
    memberId = member.id;
  });

  it("uses the server's facts about a team and says which rule failed", async () => {
    const rules = { plans: ["teams" as const, "organization" as const], excludeOrganizations: true };
    const standalone = await test.db.team.create({ data: { name: "Solo", plan: "TEAMS" } });
    const solo = await services.targetingPreview.preview({
      rules,
      subject: { kind: "team", id: standalone.id },
    });
    expect(solo.included).toBe(true);
    // The demo team belongs to organization org_demo.
    const demo = await services.targetingPreview.preview({
      rules,
      subject: { kind: "team", id: DEMO_TEAM_ID },
    });
    expect(demo.included).toBe(false);
    const org = await services.targetingPreview.preview({
      rules,
      subject: { kind: "team", id: orgTeamId },
      // A typed plan cannot override what the server knows.
      attributes: { plan: "teams", organizationId: null },
    });
    expect(org.included).toBe(false);
    expect(org.attributes).toMatchObject({ plan: "organization", organizationId: "org-acme" });
    expect(org.checks.find((check) => !check.passed)?.rule).toBe("excludeOrganizations");
  });

  it("derives a user's plan from their team, and notes unknown subjects", async () => {
    const user = await services.targetingPreview.preview({
      rules: { plans: ["teams"] },
      subject: { kind: "user", id: memberId },
    });
    expect(user.attributes.teamId).toBe(DEMO_TEAM_ID);
    const unknown = await services.targetingPreview.preview({
      rules: { condition: { country: "NL" } },
      subject: { kind: "team", id: "not-a-team" },
      attributes: { country: "NL" },
    });
    expect(unknown.included).toBe(true);
    expect(unknown.notes[0]).toContain("No team with id not-a-team");
  });

  it("peeks at the saved configuration's variant without enrolling", async () => {
    const slug = await createExperiment(services, { scope: "team" });
    const preview = await services.targetingPreview.preview({
      slug,
      rules: {},
      subject: { kind: "team", id: DEMO_TEAM_ID },
    });
    expect(preview.wouldGet?.reason).toBe("assigned");
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(0);
  });

  it("says a random experiment's variant is not determined until the subject is first served", async () => {
    const slug = await createExperiment(services, { scope: "team", assignmentType: "random" });
    const ask = () =>
      services.targetingPreview.preview({ slug, rules: {}, subject: { kind: "team", id: DEMO_TEAM_ID } });
    expect((await ask()).wouldGet).toEqual({ variant: null, reason: "would-assign-randomly" });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(0);
    const served = await services.assignments.getVariantForTeam(slug, DEMO_TEAM_ID);
    expect((await ask()).wouldGet).toEqual({ variant: served.variant, reason: "sticky" });
  });

  it("knows which slugs are taken, by experiments and flags alike", async () => {
    await test.db.feature.create({ data: { slug: "dark-mode-flag", type: "FLAG" } });
    expect(await services.admin.slugAvailable("landing-hero")).toBe(false);
    expect(await services.admin.slugAvailable("dark-mode-flag")).toBe(false);
    expect(await services.admin.slugAvailable("brand-new-test")).toBe(true);
    expect((await services.admin.listFlags()).map((flag) => flag.slug)).toContain("dark-mode-flag");
  });
});
