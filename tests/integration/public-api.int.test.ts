import { randomUUID } from "node:crypto";
import type { Session } from "next-auth";
import { describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { DEMO_TEAM_ID } from "@/server/seed";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

/** A tRPC (superjson) response body, typed loosely: the tests assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type TrpcBody = Record<string, any>;

/**
 * The public tRPC API over real HTTP semantics (Request in, Response out), on each database. The
 * rate limiters live in the router module, shared by both runs in this process, so each run
 * floods its own addresses and visitor ids.
 */
describe.each(databaseKinds())("public experiments API on %s", (kind) => {
  const own = (name: string) => `${name}-${kind}`;
  const octet = kind === "pglite" ? 77 : 78;
  let test: TestDatabase;
  let services: ExperimentServices;
  let session: Session | null = null;
  let call: (
    path: string,
    input: unknown,
    ip?: string,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: TrpcBody; headers: Headers }>;

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    const handler = createTRPCHttpHandler({ getSession: async () => session, experiments: services });
    call = async (path, input, ip = "203.0.113.1", headers = {}) => {
      const url = new URL(`http://localhost/api/trpc/${path}`);
      if (input !== undefined) url.searchParams.set("input", JSON.stringify({ json: input }));
      const response = await handler(new Request(url, { headers: { "x-forwarded-for": ip, ...headers } }));
      return { status: response.status, body: await response.json(), headers: response.headers };
    };
  });

  it("serves a visitor's variant, sticky across calls", async () => {
    const first = await call("experiments.getVariant", { slug: "landing-hero", visitorId: "visitor-1" });
    expect(first.status).toBe(200);
    const data = first.body.result.data.json;
    expect(data).toMatchObject({ slug: "landing-hero", reason: "assigned", isNewAssignment: true, phase: 1 });
    const second = await call("experiments.getVariant", { slug: "landing-hero", visitorId: "visitor-1" });
    expect(second.body.result.data.json).toMatchObject({ variant: data.variant, reason: "sticky" });
  });

  it("answers NOT_FOUND for an unknown slug and BAD_REQUEST naming the bad field", async () => {
    const missing = await call("experiments.getVariant", { slug: "no-such-test", visitorId: "visitor-1" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.json.message).toBe('No experiment "no-such-test"');

    const badSlug = await call("experiments.getVariant", { slug: "Bad Slug!", visitorId: "visitor-1" });
    expect(badSlug.status).toBe(400);
    expect(Object.keys(badSlug.body.error.json.data.fieldErrors)).toEqual(["slug"]);

    const badId = await call("experiments.getVariant", { slug: "landing-hero", visitorId: "x".repeat(200) });
    expect(badId.status).toBe(400);
    expect(badId.body.error.json.data.fieldErrors.visitorId[0]).toContain("at most 128");

    const noSubject = await call("experiments.getVariant", { slug: "landing-hero" });
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.error.json.data.fieldErrors.visitorId).toEqual([
      "Give a userId, teamId or visitorId",
    ]);
  });

  it("lets users speak only for themselves and their teams, with server-known targeting facts", async () => {
    const slug = await createExperiment(services, { scope: "team", targetingRules: { plans: ["teams"] } });
    const anonymous = await call("experiments.getVariant", { slug, teamId: DEMO_TEAM_ID });
    expect(anonymous.status).toBe(403);

    const member = await test.db.user.findUniqueOrThrow({ where: { email: "member@verdict.local" } });
    session = { user: { id: member.id, email: member.email, role: "MEMBER" }, expires: "2999-01-01" };
    // The demo team's plan is TEAMS in the database; a client claiming another plan changes nothing.
    const asMember = await call("experiments.getVariant", {
      slug,
      teamId: DEMO_TEAM_ID,
      attributes: { plan: "individual" },
    });
    expect(asMember.status).toBe(200);
    expect(asMember.body.result.data.json.reason).toBe("assigned");
    const otherUser = await call("experiments.getVariants", { userId: "someone-else" });
    expect(otherUser.status).toBe(403);
    session = null;
  });

  it("getVariants returns every active experiment; listActiveExperiments describes them", async () => {
    const all = await call("experiments.getVariants", { visitorId: "visitor-2" });
    expect(all.status).toBe(200);
    expect(all.body.result.data.json["landing-hero"].reason).toBe("assigned");
    const list = await call("experiments.listActiveExperiments", undefined);
    expect(list.body.result.data.json.find((e: { slug: string }) => e.slug === "landing-hero")).toMatchObject(
      {
        status: "running",
        scope: "visitor",
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 50 },
        ],
      },
    );
  });

  it("rate-limits per visitor with 429 and Retry-After", async () => {
    let last = { status: 200, headers: new Headers(), body: null as unknown };
    for (let i = 0; i < 301 && last.status === 200; i += 1) {
      last = await call(
        "experiments.getVariant",
        { slug: "landing-hero", visitorId: own("visitor-flood") },
        `198.51.100.${i % 250}`,
      );
    }
    expect(last.status).toBe(429);
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another visitor from the same addresses is unaffected.
    expect(
      (
        await call(
          "experiments.getVariant",
          { slug: "landing-hero", visitorId: own("visitor-calm") },
          "198.51.100.1",
        )
      ).status,
    ).toBe(200);
  });

  it("counts the per-visitor limit on the visitor cookie, so inventing a visitorId per call does not reset it", async () => {
    const cookie = { cookie: `verdict_vid=${randomUUID()}` };
    let status = 200;
    let count = 0;
    while (status === 200 && count < 310) {
      const input = { slug: "landing-hero", visitorId: own(`made-up-${count}`) };
      status = (await call("experiments.getVariant", input, `198.18.${octet}.${count % 250}`, cookie)).status;
      count += 1;
    }
    expect(status).toBe(429);
    expect(count).toBe(301);
    // Another browser is not affected.
    const other = { cookie: `verdict_vid=${randomUUID()}` };
    const calm = await call(
      "experiments.getVariant",
      { slug: "landing-hero", visitorId: own("calm-2") },
      undefined,
      other,
    );
    expect(calm.status).toBe(200);
  });

  it("still counts the visitorId sent when each call arrives with a fresh cookie, as a client dropping cookies would", async () => {
    let status = 200;
    let count = 0;
    while (status === 200 && count < 310) {
      const fresh = { cookie: `verdict_vid=${randomUUID()}` };
      const input = { slug: "landing-hero", visitorId: own("same-visitor") };
      status = (await call("experiments.getVariant", input, `198.19.${octet}.${count % 250}`, fresh)).status;
      count += 1;
    }
    expect(status).toBe(429);
    expect(count).toBe(301);
  });

  it("lists a running experiment switched off as not active", async () => {
    const slug = await createExperiment(services);
    const active = async () =>
      (await call("experiments.listActiveExperiments", undefined)).body.result.data.json.map(
        (experiment: { slug: string }) => experiment.slug,
      );
    expect(await active()).toContain(slug);
    await test.db.feature.update({ where: { slug }, data: { enabled: false } });
    services.catalog.invalidate();
    expect(await active()).not.toContain(slug);
    const served = await call("experiments.getVariant", { slug, visitorId: own("visitor-off") });
    expect(served.body.result.data.json).toMatchObject({ variant: null, reason: "not-running" });
  });

  it("rate-limits per client IP", async () => {
    let status = 200;
    let count = 0;
    while (status === 200 && count < 1300) {
      status = (await call("experiments.listActiveExperiments", undefined, `192.0.2.${octet}`)).status;
      count += 1;
    }
    expect(status).toBe(429);
    expect(count).toBe(1201);
  });

  it("never leaks internal error text", async () => {
    await test.db.$executeRawUnsafe('ALTER TABLE "ExperimentVariant" RENAME TO "ExperimentVariantGone"');
    try {
      const failed = await call("experiments.getVariant", { slug: "landing-hero", visitorId: "visitor-new" });
      expect(failed.status).toBe(503);
      expect(failed.body.error.json.message).toBe(
        "Assignments are unavailable right now; render the default",
      );
      expect(JSON.stringify(failed.body)).not.toMatch(/ExperimentVariant|relation|stack/i);
    } finally {
      await test.db.$executeRawUnsafe('ALTER TABLE "ExperimentVariantGone" RENAME TO "ExperimentVariant"');
    }
  });
});
