import type { Session } from "next-auth";
import { describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { trackBrowserEvents } from "@/features/experiments/server/track-events";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

/**
 * Events a hook sends for the explicit ids it asked its variant for (a user's second team, say)
 * are credited to those ids, exactly when the caller may speak for them.
 */
describe.each(databaseKinds())("browser events for explicit subjects on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let session: Session;
  let firstTeam: string;
  let secondTeam: string;
  let strangersTeam: string;
  const visitorId = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c";

  withFreshServices(kind, {}, async (database, experiments) => {
    test = database;
    services = experiments;
    const user = await test.db.user.create({ data: { email: "two-teams@test.local" } });
    const stranger = await test.db.user.create({ data: { email: "stranger@test.local" } });
    const makeTeam = async (name: string, userId: string, createdAt: Date) => {
      const team = await test.db.team.create({ data: { name } });
      await test.db.membership.create({ data: { userId, teamId: team.id, createdAt } });
      return team.id;
    };
    firstTeam = await makeTeam("First", user.id, new Date("2026-01-01T00:00:00Z"));
    secondTeam = await makeTeam("Second", user.id, new Date("2026-02-01T00:00:00Z"));
    strangersTeam = await makeTeam("Stranger's", stranger.id, new Date("2026-01-01T00:00:00Z"));
    session = {
      user: { id: user.id, email: user.email, role: "MEMBER" },
      expires: new Date(Date.now() + 3600_000).toISOString(),
    };
  });

  const request = () => ({ session, visitorId, consent: "not-required" as const });

  it("credits an exposure and a conversion to the named team, not to the request's first team", async () => {
    const slug = await createExperiment(services, { scope: "team", conversionEvents: ["widget_added"] });
    const { variant } = await services.assignments.getVariantForTeam(slug, secondTeam);
    const outcomes = await trackBrowserEvents(services, request(), [
      { type: "exposure", slug, variant: variant as string, subject: { teamId: secondTeam } },
      {
        type: "conversion",
        slug,
        event: "widget_added",
        idempotencyKey: "explicit-team-conversion-1",
        subject: { teamId: secondTeam },
      },
    ]);
    expect(outcomes).toEqual(["recorded", "recorded"]);
    const events = await test.db.event.findMany({
      where: { experimentSlug: slug },
      orderBy: { name: "asc" },
    });
    expect(events.map((event) => [event.name, event.teamId, event.variant])).toEqual([
      ["experiment_conversion", secondTeam, variant],
      ["experiment_viewed", secondTeam, variant],
    ]);
    // Sent together, found together.
    expect(events[0]?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[1]?.correlationId).toBe(events[0]?.correlationId);
    const firstTeamRows = await test.db.experimentVariant.count({
      where: { experimentSlug: slug, teamId: firstTeam },
    });
    expect(firstTeamRows).toBe(0);
  });

  it("without a subject, events are for the request's own subjects (the user's first team)", async () => {
    const slug = await createExperiment(services, { scope: "team" });
    const { variant } = await services.assignments.getVariantForTeam(slug, firstTeam);
    const outcomes = await trackBrowserEvents(services, request(), [
      { type: "exposure", slug, variant: variant as string },
    ]);
    expect(outcomes).toEqual(["recorded"]);
    const event = await test.db.event.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(event.teamId).toBe(firstTeam);
  });

  it("refuses ids the caller may not speak for, records nothing for them, and still records the rest", async () => {
    const slug = await createExperiment(services, { scope: "team" });
    const { variant } = await services.assignments.getVariantForTeam(slug, strangersTeam);
    const visitorSlug = await createExperiment(services);
    const { variant: visitorVariant } = await services.assignments.getVariantForVisitor(
      visitorSlug,
      visitorId,
    );
    const outcomes = await trackBrowserEvents(services, request(), [
      { type: "exposure", slug, variant: variant as string, subject: { teamId: strangersTeam } },
      { type: "exposure", slug, variant: "control", subject: { userId: "not-this-user" } },
      { type: "exposure", slug: visitorSlug, variant: visitorVariant as string },
    ]);
    expect(outcomes).toEqual(["forbidden-subject", "forbidden-subject", "recorded"]);
    expect(await test.db.event.count({ where: { experimentSlug: slug } })).toBe(0);
    const stranger = await test.db.experimentVariant.findFirstOrThrow({
      where: { experimentSlug: slug, teamId: strangersTeam },
    });
    expect(stranger.firstExposedAt).toBeNull();

    const anonymous = await trackBrowserEvents(services, { ...request(), session: null }, [
      { type: "exposure", slug, variant: variant as string, subject: { teamId: strangersTeam } },
    ]);
    expect(anonymous).toEqual(["forbidden-subject"]);
  });
});
