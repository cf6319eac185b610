import { randomUUID } from "node:crypto";
import type { Session } from "next-auth";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { EXPOSURE_EVENT } from "@/features/experiments/core/events";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { adminExperimentsRouter } from "@/server/api/routers/admin-experiments";
import { databaseKinds, type TestDatabase } from "./databases";
import {
  CALLER_HEADER,
  type Caller,
  endpointForSeededCallers,
  uniqueSlug,
  withFreshServices,
} from "./experiments-fixture";

type Procedure = keyof typeof adminExperimentsRouter._def.record;
/** A procedure's result (superjson-decoded) or its tRPC error, with the HTTP status. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type Reply = { status: number; data: any; error: any };

const PROCEDURES = Object.keys(adminExperimentsRouter._def.record) as Procedure[];
const isQuery = (procedure: Procedure) =>
  adminExperimentsRouter._def.procedures[procedure]._def.type === "query";

const draft = (slug: string, overrides: Record<string, unknown> = {}) => ({
  slug,
  description: `Draft ${slug}`,
  scope: "visitor",
  variants: [
    { name: "control", percentage: 50 },
    { name: "treatment", percentage: 50 },
  ],
  ...overrides,
});

function expectOk(reply: Reply) {
  expect(reply.status, JSON.stringify(reply.error)).toBe(200);
  return reply.data;
}

function expectError(reply: Reply, status: number, code: string, message?: string | RegExp) {
  expect(reply.status, JSON.stringify(reply.data ?? reply.error)).toBe(status);
  expect(reply.error.data.code).toBe(code);
  if (typeof message === "string") expect(reply.error.message).toBe(message);
  else if (message) expect(reply.error.message).toMatch(message);
  return reply.error;
}

/** The admin tRPC API over real HTTP semantics: GET for queries, POST for mutations, superjson. */
describe.each(databaseKinds())("admin experiments API on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let handler: (request: Request) => Promise<Response>;
  let sessions: Partial<Record<Caller, Session>> = {};

  async function call(procedure: Procedure, input?: unknown, as: Caller = "admin"): Promise<Reply> {
    const url = new URL(`http://localhost/api/trpc/admin.experiments.${procedure}`);
    const headers = { [CALLER_HEADER]: as, "content-type": "application/json" };
    const payload = input === undefined ? undefined : JSON.stringify(superjson.serialize(input));
    let request: Request;
    if (isQuery(procedure)) {
      if (payload) url.searchParams.set("input", payload);
      request = new Request(url, { headers });
    } else {
      request = new Request(url, { method: "POST", headers, body: payload ?? "{}" });
    }
    const response = await handler(request);
    const body = await response.json();
    return {
      status: response.status,
      data: body.result ? superjson.deserialize(body.result.data) : undefined,
      error: body.error?.json,
    };
  }

  /** Creates an experiment over the API, started unless told otherwise; returns its slug. */
  async function createOverApi(overrides: Record<string, unknown> = {}, start = true) {
    const slug = uniqueSlug("admin");
    expectOk(await call("create", draft(slug, overrides)));
    if (start) expectOk(await call("updateStatus", { slug, action: "start" }));
    return slug;
  }

  const assignVisitors = async (slug: string, count: number, prefix = slug) => {
    const tally: Record<string, number> = {};
    for (let i = 0; i < count; i += 1) {
      const { variant } = await services.assignments.getVariantForVisitor(slug, `${prefix}-v${i}`);
      if (variant) tally[variant] = (tally[variant] ?? 0) + 1;
    }
    return tally;
  };

  /** Everything an admin call could change. */
  const databaseState = async () => ({
    features: await test.db.feature.findMany({ orderBy: { slug: "asc" } }),
    assignments: await test.db.experimentVariant.findMany({ orderBy: { id: "asc" } }),
    audit: await test.db.auditLog.findMany({ orderBy: { id: "asc" } }),
    userStates: await test.db.userFeature.findMany({ orderBy: { userId: "asc" } }),
    rollupRefreshes: await test.db.experimentRollupRefresh.findMany({ orderBy: { experimentSlug: "asc" } }),
  });

  withFreshServices(kind, { seeded: true }, async (database, experiments) => {
    test = database;
    services = experiments;
    ({ handler, sessions } = await endpointForSeededCallers(test, services));
  });

  it("refuses anonymous callers (401) and members (403) on every procedure, changing nothing", async () => {
    const slug = await createOverApi({}, false);
    const flagSlug = uniqueSlug("flag");
    await test.db.feature.create({ data: { slug: flagSlug, type: "FLAG" } });
    const visitor = { kind: "visitor", id: "guarded-visitor" };
    const inputs: Record<Procedure, unknown> = {
      list: {},
      get: { slug },
      create: draft(uniqueSlug("refused")),
      update: { slug, expectedVersion: 1, description: "hijacked" },
      updateStatus: { slug, action: "start" },
      setWinner: { slug, winner: "control" },
      delete: { slug, confirmSlug: slug },
      getStats: { slug },
      results: { slug },
      refreshResults: { slug },
      convertFlag: { flagSlug },
      auditLog: { slug },
      subject: visitor,
      previewTargeting: { slug, rules: {}, subject: visitor },
      slugAvailable: { slug },
      listFlags: undefined,
    };
    expect(Object.keys(inputs).sort()).toEqual([...PROCEDURES].sort());

    const before = await databaseState();
    for (const procedure of PROCEDURES) {
      const anonymous = await call(procedure, inputs[procedure], "anonymous");
      expectError(anonymous, 401, "UNAUTHORIZED", "Sign in first");
      const member = await call(procedure, inputs[procedure], "member");
      expectError(member, 403, "FORBIDDEN", "Admins only");
    }
    expect(await databaseState()).toEqual(before);
    // The same inputs are valid: an admin's read goes through.
    expect(expectOk(await call("get", { slug })).description).toBe(`Draft ${slug}`);
  });

  it("creates drafts, refuses a taken slug and names the invalid field", async () => {
    const slug = uniqueSlug("create");
    const created = expectOk(await call("create", draft(slug)));
    expect(created).toMatchObject({
      slug,
      version: 1,
      enabled: false,
      config: { status: "draft", phase: 1 },
    });

    const again = await call("create", draft(slug, { description: "second" }));
    expectError(again, 409, "CONFLICT", `The slug "${slug}" is taken (by an experiment or a flag).`);
    expect(expectOk(await call("get", { slug })).description).toBe(`Draft ${slug}`);

    const badSum = uniqueSlug("create");
    const uneven = await call(
      "create",
      draft(badSum, {
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 40 },
        ],
      }),
    );
    expect(expectError(uneven, 400, "BAD_REQUEST").data.fieldErrors).toEqual({
      variants: ["Percentages must add up to 100 (they add up to 90)."],
    });
    const badSlug = expectError(await call("create", draft("Not A Slug!")), 400, "BAD_REQUEST");
    expect(Object.keys(badSlug.data.fieldErrors)).toEqual(["slug"]);
    expect(badSlug.data.fieldErrors.slug[0]).toContain("lower-case letters");
    const reserved = expectError(await call("create", draft("new")), 400, "BAD_REQUEST");
    expect(reserved.data.fieldErrors.slug).toEqual([
      "This word is reserved by the admin console; choose another slug",
    ]);

    expect(expectOk(await call("slugAvailable", { slug })).available).toBe(false);
    expect(expectOk(await call("slugAvailable", { slug: badSum })).available).toBe(true);
    expectError(await call("get", { slug: badSum }), 404, "NOT_FOUND", `No experiment "${badSum}"`);
  });

  it("lists with status and search filters, and gets one experiment", async () => {
    const marker = `needle${process.pid}`;
    const running = await createOverApi({ description: `Checkout ${marker} button` });
    const drafted = await createOverApi({ description: "Another idea" }, false);

    const slugsOf = (reply: Reply) => expectOk(reply).map((row: { slug: string }) => row.slug);
    const runningSlugs = slugsOf(await call("list", { status: "running" }));
    expect(runningSlugs).toContain(running);
    expect(runningSlugs).not.toContain(drafted);
    const draftSlugs = slugsOf(await call("list", { status: "draft" }));
    expect(draftSlugs).toContain(drafted);
    expect(draftSlugs).not.toContain(running);
    expect(slugsOf(await call("list", { search: marker.toUpperCase() }))).toEqual([running]);
    expect(slugsOf(await call("list", { search: drafted }))).toEqual([drafted]);

    const one = expectOk(await call("get", { slug: running }));
    expect(one).toMatchObject({ slug: running, enabled: true, version: 2, config: { status: "running" } });
    expect(one.createdAt).toBeInstanceOf(Date);
  });

  it("counts zero for every variant before traffic, then the assignments made", async () => {
    const slug = await createOverApi({
      variants: [
        { name: "control", percentage: 34 },
        { name: "blue", percentage: 33 },
        { name: "green", percentage: 33 },
      ],
    });
    expect(expectOk(await call("getStats", { slug }))).toEqual({
      slug,
      phase: 1,
      total: 0,
      variants: ["control", "blue", "green"].map((variant) => ({ variant, assignments: 0, exposed: 0 })),
    });

    const tally = await assignVisitors(slug, 30);
    const stats = expectOk(await call("getStats", { slug }));
    expect(stats.total).toBe(30);
    for (const row of stats.variants) expect(row.assignments).toBe(tally[row.variant] ?? 0);
    expect(expectOk(await call("list", { search: slug }))[0].participants).toBe(30);
  });

  it("refreshes one test's rollups on demand and says when, or that a refresh is already running", async () => {
    const slug = await createOverApi({});
    await assignVisitors(slug, 5);
    const refreshed = expectOk(await call("refreshResults", { slug }));
    expect(refreshed).toMatchObject({ slug, refreshed: true });
    const stamp = await test.db.experimentRollupRefresh.findUnique({ where: { experimentSlug: slug } });
    expect(refreshed.refreshedAt).toBe(stamp?.refreshedAt.toISOString());
    const rows = await test.db.experimentRollupDaily.findMany({ where: { experimentSlug: slug } });
    expect(rows.reduce((sum, row) => sum + row.assignments, 0)).toBe(5);
    expectError(await call("refreshResults", { slug: "no-such-test" }), 404, "NOT_FOUND");
    expectError(await call("refreshResults", { slug: "Not A Slug!" }), 400, "BAD_REQUEST");
  });

  it("moves through the lifecycle and says why a transition is refused", async () => {
    const slug = await createOverApi({}, false);
    expectError(
      await call("updateStatus", { slug, action: "conclude" }),
      400,
      "BAD_REQUEST",
      "Cannot conclude an experiment that is draft: only a running or paused experiment can be concluded.",
    );
    expectError(
      await call("setWinner", { slug, winner: "control" }),
      400,
      "BAD_REQUEST",
      "Only a concluded experiment has a winner; this one is draft.",
    );
    const statusAfter = async (action: string, extra: Record<string, unknown> = {}) => {
      const record = expectOk(await call("updateStatus", { slug, action, ...extra }));
      return { status: record.config.status, enabled: record.enabled, winner: record.config.winnerVariant };
    };
    expect(await statusAfter("start")).toEqual({ status: "running", enabled: true, winner: null });
    expect(await statusAfter("pause")).toEqual({ status: "paused", enabled: false, winner: null });
    expectError(
      await call("updateStatus", { slug, action: "pause" }),
      400,
      "BAD_REQUEST",
      /only a running experiment can be paused/,
    );
    expect(await statusAfter("resume")).toEqual({ status: "running", enabled: true, winner: null });
    expectError(
      await call("updateStatus", { slug, action: "conclude", winner: "purple" }),
      400,
      "BAD_REQUEST",
      'The winner "purple" is not a variant of this experiment (control, treatment).',
    );
    expect(await statusAfter("conclude", { winner: "treatment" })).toEqual({
      status: "concluded",
      enabled: false,
      winner: "treatment",
    });
    expectError(
      await call("updateStatus", { slug, action: "start" }),
      400,
      "BAD_REQUEST",
      "Cannot start an experiment that is concluded: only a draft can be started.",
    );

    const changed = expectOk(await call("setWinner", { slug, winner: "control" }));
    expect(changed.config).toMatchObject({ status: "concluded", winnerVariant: "control" });
    expect(changed.config.endedAt).not.toBeNull();
    expectError(await call("setWinner", { slug, winner: "purple" }), 400, "BAD_REQUEST", /not a variant/);
    expectError(await call("updateStatus", { slug: "no-such-test", action: "start" }), 404, "NOT_FOUND");
  });

  it("changes a running test's weights only with an explicit keep or re-randomize", async () => {
    const slug = await createOverApi();
    const earlier = await services.assignments.getVariantForVisitor(slug, "weights-visitor");
    const weights = [
      { name: "control", percentage: 70 },
      { name: "treatment", percentage: 30 },
    ];
    expectError(
      await call("update", { slug, expectedVersion: 2, variants: weights }),
      400,
      "BAD_REQUEST",
      "Changing variants or weights of a started experiment needs a choice: keep existing assignments, or re-randomize (a new phase; results restart).",
    );
    expectError(
      await call("update", { slug, expectedVersion: 2, trafficPercent: 40 }),
      400,
      "BAD_REQUEST",
      /Traffic allocation can only grow once started \(now 100%\)/,
    );
    const unchanged = expectOk(await call("get", { slug }));
    expect(unchanged).toMatchObject({ version: 2, config: { phase: 1, trafficPercent: 100 } });
    expect(unchanged.config.variants.map((v: { percentage: number }) => v.percentage)).toEqual([50, 50]);

    const kept = expectOk(
      await call("update", { slug, expectedVersion: 2, variants: weights, variantChange: "keep" }),
    );
    expect(kept).toMatchObject({ version: 3, config: { phase: 1, variants: weights } });
    expect(await services.assignments.getVariantForVisitor(slug, "weights-visitor")).toMatchObject({
      variant: earlier.variant,
      reason: "sticky",
      phase: 1,
    });

    const rerandomized = expectOk(
      await call("update", { slug, expectedVersion: 3, variants: weights, variantChange: "rerandomize" }),
    );
    expect(rerandomized).toMatchObject({ version: 4, config: { phase: 2, status: "running" } });
    expect(expectOk(await call("getStats", { slug })).total).toBe(0);
    expect(expectOk(await call("getStats", { slug, phase: 1 })).total).toBe(1);
    expect((await services.assignments.getVariantForVisitor(slug, "weights-visitor")).reason).toBe(
      "assigned",
    );
  });

  it("refuses a stale expectedVersion with CONFLICT and keeps the newer change", async () => {
    const slug = await createOverApi();
    expectOk(await call("update", { slug, expectedVersion: 2, description: "first editor" }));
    const stale = await call("update", { slug, expectedVersion: 2, description: "second editor" });
    expectError(stale, 409, "CONFLICT", /was changed by someone else since you loaded it/);
    expectError(await call("updateStatus", { slug, action: "pause", expectedVersion: 2 }), 409, "CONFLICT");
    expectError(await call("delete", { slug, confirmSlug: slug, expectedVersion: 1 }), 409, "CONFLICT");
    expect(expectOk(await call("get", { slug }))).toMatchObject({
      version: 3,
      description: "first editor",
      config: { status: "running" },
    });
  });

  it("deletes only with the typed slug, dropping assignments but keeping events and history", async () => {
    const slug = await createOverApi();
    await assignVisitors(slug, 5);
    await test.db.event.create({
      data: {
        name: EXPOSURE_EVENT,
        occurredAt: new Date(),
        source: "SERVER",
        idempotencyKey: randomUUID(),
        experimentSlug: slug,
        variant: "control",
        phase: 1,
        visitorId: `${slug}-v0`,
      },
    });

    const unconfirmed = expectError(await call("delete", { slug, confirmSlug: "yes" }), 400, "BAD_REQUEST");
    expect(unconfirmed.data.fieldErrors).toEqual({ confirmSlug: ["Type the experiment's slug to confirm"] });
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(5);

    expect(expectOk(await call("delete", { slug, confirmSlug: slug }))).toEqual({ deleted: slug });
    expectError(await call("get", { slug }), 404, "NOT_FOUND");
    expect(await test.db.experimentVariant.count({ where: { experimentSlug: slug } })).toBe(0);
    expect(await test.db.event.count({ where: { experimentSlug: slug } })).toBe(1);
    const history = expectOk(await call("auditLog", { slug }));
    expect(history[0]).toMatchObject({
      action: "delete",
      after: null,
      before: { description: `Draft ${slug}` },
    });
    expectError(await call("delete", { slug, confirmSlug: slug }), 404, "NOT_FOUND");
  });

  it("converts a flag: on → treatment, off → control, everyone else bucketed", async () => {
    const flagSlug = uniqueSlug("flag");
    await test.db.feature.create({ data: { slug: flagSlug, type: "FLAG", description: "New checkout" } });
    const user = (name: string) => test.db.user.create({ data: { email: `${flagSlug}-${name}@test.local` } });
    const on = await user("on");
    const off = await user("off");
    const other = await user("other");
    await test.db.userFeature.createMany({
      data: [
        { userId: on.id, featureSlug: flagSlug, enabled: true },
        { userId: off.id, featureSlug: flagSlug, enabled: false },
      ],
    });
    const flags = expectOk(await call("listFlags"));
    expect(flags.find((flag: { slug: string }) => flag.slug === flagSlug)?._count.userStates).toBe(2);

    const converted = expectOk(await call("convertFlag", { flagSlug }));
    expect(converted).toMatchObject({
      slug: flagSlug,
      enabled: true,
      carriedOver: { treatment: 1, control: 1 },
      config: { status: "running", scope: "user", phase: 1 },
    });
    const rows = await test.db.experimentVariant.findMany({ where: { experimentSlug: flagSlug } });
    expect(rows.map(({ userId, variant, origin }) => ({ userId, variant, origin }))).toEqual(
      expect.arrayContaining([
        { userId: on.id, variant: "treatment", origin: "FLAG_CONVERSION" },
        { userId: off.id, variant: "control", origin: "FLAG_CONVERSION" },
      ]),
    );
    expect(rows).toHaveLength(2);
    expect(await services.assignments.getVariantForUser(flagSlug, on.id)).toMatchObject({
      variant: "treatment",
      reason: "sticky",
    });
    expect(await services.assignments.getVariantForUser(flagSlug, off.id)).toMatchObject({
      variant: "control",
      reason: "sticky",
    });
    const fresh = await services.assignments.getVariantForUser(flagSlug, other.id);
    expect(fresh).toMatchObject({ reason: "assigned", isNewAssignment: true });
    const freshRow = await test.db.experimentVariant.findFirstOrThrow({
      where: { experimentSlug: flagSlug, userId: other.id },
    });
    expect(freshRow.origin).toBe("ASSIGNED");

    const message = `"${flagSlug}" is already an experiment.`;
    expectError(await call("convertFlag", { flagSlug }), 400, "BAD_REQUEST", message);
    expectError(
      await call("convertFlag", { flagSlug: "no-such-flag" }),
      404,
      "NOT_FOUND",
      'No flag "no-such-flag"',
    );
    expect(expectOk(await call("listFlags")).map((flag: { slug: string }) => flag.slug)).not.toContain(
      flagSlug,
    );
  });

  it("keeps an audit trail of every change, newest first, with actor and before/after", async () => {
    const slug = await createOverApi();
    expectOk(await call("update", { slug, expectedVersion: 2, description: "Audited", trafficPercent: 100 }));
    expectOk(await call("updateStatus", { slug, action: "pause" }));
    expectOk(await call("updateStatus", { slug, action: "conclude", winner: "treatment" }));
    expectOk(await call("setWinner", { slug, winner: "control" }));

    const entries = expectOk(await call("auditLog", { slug }));
    expect(entries.map((entry: { action: string }) => entry.action)).toEqual([
      "set-winner",
      "conclude",
      "pause",
      "update",
      "start",
      "create",
    ]);
    const admin = sessions.admin?.user;
    for (const entry of entries)
      expect(entry).toMatchObject({ actorId: admin?.id, actorEmail: admin?.email });
    const times = entries.map((entry: { at: Date }) => entry.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const byAction = Object.fromEntries(entries.map((entry: { action: string }) => [entry.action, entry]));
    expect(byAction.create.before).toBeNull();
    expect(byAction.create.after.config.status).toBe("draft");
    expect(byAction.update.before.description).toBe(`Draft ${slug}`);
    expect(byAction.update.after.description).toBe("Audited");
    expect([byAction.conclude.before.config.status, byAction.conclude.after.config.status]).toEqual([
      "paused",
      "concluded",
    ]);
    expect([
      byAction["set-winner"].before.config.winnerVariant,
      byAction["set-winner"].after.config.winnerVariant,
    ]).toEqual(["treatment", "control"]);

    const page = expectOk(await call("auditLog", { slug, limit: 2 }));
    expect(page.map((entry: { action: string }) => entry.action)).toEqual(["set-winner", "conclude"]);
    const next = expectOk(await call("auditLog", { slug, limit: 2, before: page[1].at }));
    expect(next.map((entry: { action: string }) => entry.action)).toEqual(["pause", "update"]);
  });

  it("looks up a subject's assignments with variant, phase and assignedAt", async () => {
    const first = await createOverApi();
    const second = await createOverApi();
    const visitorId = `lookup-${process.pid}`;
    const a = await services.assignments.getVariantForVisitor(first, visitorId);
    const b = await services.assignments.getVariantForVisitor(second, visitorId);

    const found = expectOk(await call("subject", { kind: "visitor", id: visitorId }));
    expect(found).toHaveLength(2);
    const bySlug = Object.fromEntries(
      found.map((row: { experimentSlug: string }) => [row.experimentSlug, row]),
    );
    expect(bySlug[first]).toMatchObject({
      variant: a.variant,
      phase: 1,
      origin: "ASSIGNED",
      exposureEvents: 0,
    });
    expect(bySlug[second]).toMatchObject({
      variant: b.variant,
      phase: 1,
      origin: "ASSIGNED",
      exposureEvents: 0,
    });
    for (const row of found) expect(row.assignedAt).toBeInstanceOf(Date);

    expect(expectOk(await call("subject", { kind: "user", id: visitorId }))).toEqual([]);
    const badId = expectError(
      await call("subject", { kind: "visitor", id: "no spaces" }),
      400,
      "BAD_REQUEST",
    );
    expect(Object.keys(badId.data.fieldErrors)).toEqual(["id"]);
  });
});
