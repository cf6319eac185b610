import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { formatDate } from "../src/features/experiments/components/format";
import { eventUuid } from "../src/features/experiments/core/events";
import { withPgClient } from "../src/server/db/pg-client";
import { RESULTS_DEMO_SLUG } from "../src/server/seed-results-demo";
import { type AppInstance, sleep } from "./app-process";
import { saveScreenshot } from "./helpers";
import { InstanceCluster } from "./instance-cluster";

/**
 * Two `next start` processes on one PostgreSQL, as behind a load balancer (see InstanceCluster).
 * Part of the e2e stage because it needs the production build, which CI makes after the Vitest
 * suites.
 */
const adminUrl = process.env.TEST_DATABASE_URL;
const cluster = new InstanceCluster(
  adminUrl ?? "",
  process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379",
  [3301, 3302],
);
const { runId, ip: IP } = cluster;

test.describe.configure({ mode: "serial", timeout: 240_000 });
test.skip(!adminUrl, "Needs PostgreSQL: set TEST_DATABASE_URL (CI does) to run the multi-instance test");
test.skip(!existsSync(".next/BUILD_ID"), "Needs the production build (.next/BUILD_ID): run npm run build");

test.beforeAll(({ browser }) => cluster.start(browser));
test.afterAll(() => cluster.stop());

const pair = () => cluster.instances as [AppInstance, AppInstance];
const getVariant = cluster.getVariant.bind(cluster);
const variantOf = cluster.variantOf.bind(cluster);
const adminMutation = cluster.adminMutation.bind(cluster);

test("assignments agree whichever instance serves the request, random assignment included", async () => {
  const [first, second] = pair();
  const randomSlug = `multi-random-${runId}`;
  await adminMutation(first, "admin.experiments.create", {
    slug: randomSlug,
    scope: "visitor",
    assignmentType: "random",
    variants: ["control", "b", "c", "d"].map((name) => ({ name, percentage: 25 })),
  });
  await adminMutation(first, "admin.experiments.updateStatus", { slug: randomSlug, action: "start" });
  await expect
    .poll(async () => (await getVariant(second, randomSlug, `probe-${runId}`, IP.assign)).status)
    .toBe(200);

  for (const slug of ["landing-hero", randomSlug]) {
    for (let i = 0; i < 12; i += 1) {
      const visitorId = `agree-${runId}-${i}`;
      // Alternate which instance sees the visitor first; then ask each again.
      const order = i % 2 === 0 ? [first, second, first, second] : [second, first, second, first];
      const answers = [];
      for (const instance of order)
        answers.push((await variantOf(instance, slug, visitorId, IP.assign)).variant);
      expect(answers[0]).not.toBeNull();
      expect(new Set(answers), `${slug} for ${visitorId}`).toEqual(new Set([answers[0]]));
    }
    // New visitors asking both instances at the same moment: one assignment wins, both serve it.
    for (let i = 0; i < 12; i += 1) {
      const visitorId = `race-${runId}-${i}`;
      const [one, other] = await Promise.all(
        [first, second].map((instance) => variantOf(instance, slug, visitorId, IP.assign)),
      );
      expect(one?.variant).not.toBeNull();
      expect(other?.variant, `${slug} for ${visitorId}`).toBe(one?.variant);
    }
  }
});

test("both dispatchers together deliver each event to PostHog exactly once", async () => {
  const visitors = Array.from({ length: 20 }, () => randomUUID());
  const keys: string[] = [];
  await Promise.all(
    visitors.map(async (visitor, index) => {
      const instance = pair()[index % 2] as AppInstance;
      await variantOf(instance, "landing-hero", visitor, IP.events);
      const events = Array.from({ length: 5 }, (_, n) => {
        const key = `multi-${runId}-${index}-${n}`;
        keys.push(key);
        return { type: "conversion", slug: "landing-hero", event: "cta_click", idempotencyKey: key };
      });
      const response = await fetch(`${instance.base}/api/events`, {
        method: "POST",
        headers: { cookie: `verdict_vid=${visitor}; verdict_consent=granted`, "x-forwarded-for": IP.events },
        body: JSON.stringify({ events }),
      });
      expect(response.status).toBe(200);
      expect((await response.json()).outcomes).toEqual(events.map(() => "recorded"));
    }),
  );
  const expected = new Set(keys.map((key) => eventUuid(`conversion:${key}`)));
  const delivered = () =>
    [...cluster.fakePostHog.uuidCounts().keys()].filter((uuid) => expected.has(uuid)).length;
  await expect.poll(delivered, { timeout: 30_000 }).toBe(expected.size);
  // Both dispatchers keep polling: give a duplicate the time to show up before counting.
  await sleep(3_000);
  const counts = cluster.fakePostHog.uuidCounts();
  for (const uuid of expected) expect(counts.get(uuid), uuid).toBe(1);
  expect([...counts.values()].filter((count) => count > 1)).toEqual([]);
});

test("a change made through one instance is served by the other within a second", async () => {
  const [first, second] = pair();
  let fresh = 0;
  const freshVisitor = () => `propagation-${runId}-${fresh++}`;
  /** Milliseconds until `instance` serves new visitors with `reason`, polled every 20 ms. */
  const timeUntil = async (instance: AppInstance, reason: string, since: number) => {
    for (;;) {
      if ((await variantOf(instance, "landing-hero", freshVisitor(), IP.propagation)).reason === reason)
        return Date.now() - since;
      if (Date.now() - since > 10_000) throw new Error(`${instance.base} never served "${reason}"`);
      await sleep(20);
    }
  };

  // Both catalogs are warm (loaded and cached) before the change.
  for (const instance of [first, second])
    expect((await variantOf(instance, "landing-hero", freshVisitor(), IP.propagation)).reason).toBe(
      "assigned",
    );

  await adminMutation(first, "admin.experiments.updateStatus", { slug: "landing-hero", action: "pause" });
  expect(await timeUntil(second, "not-running", Date.now())).toBeLessThan(1_000);

  // The other way round, with the session the first instance signed (the shared AUTH_SECRET).
  await adminMutation(second, "admin.experiments.updateStatus", { slug: "landing-hero", action: "resume" });
  expect(await timeUntil(first, "assigned", Date.now())).toBeLessThan(1_000);
});

test("a rate limit is one budget across instances when REDIS_URL is set", async () => {
  test.skip(!cluster.redisUp, `Redis does not answer at ${cluster.redisUrl}: shared rate limits not checked`);
  const [first, second] = pair();
  const visitorId = `flood-${runId}`;
  let allowed = 0;
  let status = 200;
  // experiments:visitor allows 300 requests a minute per visitor; each instance alone would too.
  for (let i = 0; i < 320 && status === 200; i += 1) {
    status = (await getVariant(i % 2 === 0 ? first : second, "landing-hero", visitorId, IP.flood)).status;
    if (status === 200) allowed += 1;
  }
  expect(status).toBe(429);
  expect(allowed).toBe(300);
  for (const instance of [first, second]) {
    expect((await getVariant(instance, "landing-hero", visitorId, IP.flood)).status).toBe(429);
  }
});

test("a large test's results say when its rollups were refreshed; Refresh now on one instance shows on the other", async () => {
  const [first, second] = pair();
  const slug = RESULTS_DEMO_SLUG;
  const stamp = () =>
    withPgClient(cluster.databaseUrl, async (client) => {
      const { rows } = await client.query(
        `select "refreshedAt" from "experiment_rollup_refreshes" where "experimentSlug" = $1`,
        [slug],
      );
      return (rows[0]?.refreshedAt as Date | undefined) ?? null;
    });
  const assigned = async (instance: AppInstance) => {
    const input = encodeURIComponent(JSON.stringify({ json: { slug, population: "assigned" } }));
    const response = await cluster.admin.request.get(
      `${instance.base}/api/trpc/admin.experiments.results?input=${input}`,
    );
    expect(response.status()).toBe(200);
    const results = (await response.json()).result.data.json;
    expect(results.source).toBe("rollups");
    return {
      refreshedAt: results.refreshedAt as string,
      participants: (results.analysis.metrics[0].rows as { n: number }[]).reduce(
        (sum, row) => sum + row.n,
        0,
      ),
    };
  };
  // Each instance refreshes the rollups as it starts.
  await expect.poll(stamp, { timeout: 30_000 }).not.toBeNull();
  const before = await assigned(first);

  const page = await cluster.admin.newPage();
  await page.goto(`${second.base}/admin/experiments/${slug}/results?population=assigned`);
  await expect(page.getByText("read from the daily rollups (a large test)")).toBeVisible();
  const freshness = page.getByTestId("rollup-freshness");
  await expect(freshness).toContainText(`as of ${formatDate(before.refreshedAt)}`);
  await saveScreenshot(page, "results-rollup-freshness");

  // Ten new participants through the first instance: the rollups have them only once refreshed.
  for (let i = 0; i < 10; i += 1) await variantOf(first, slug, `fresh-${runId}-${i}`, IP.assign);
  const waiting = await assigned(first);
  if (waiting.refreshedAt === before.refreshedAt) expect(waiting.participants).toBe(before.participants);

  await page.getByRole("button", { name: "Refresh now" }).click();
  await expect
    .poll(async () => (await stamp())?.getTime() ?? 0)
    .toBeGreaterThan(Date.parse(before.refreshedAt));
  // Clicked while a scheduled refresh ran: that one stamped the test, and the page said to reload.
  if (await page.getByRole("status").isVisible()) await page.reload();
  const refreshed = await stamp();
  await expect(freshness).toContainText(`as of ${formatDate(refreshed)}`);
  // Both instances read the same rows and stamp.
  for (const instance of [first, second]) {
    const after = await assigned(instance);
    expect(after.participants).toBe(before.participants + 10);
    expect(after.refreshedAt).toBe(refreshed?.toISOString());
  }
  // Exposure-based (the default), the rollups carry CUPED's adjustment as the event store would.
  await page.goto(`${first.base}/admin/experiments/${slug}/results`);
  await expect(page.getByText("read from the daily rollups (a large test)")).toBeVisible();
  await expect(page.getByText(/CUPED: \d+% less variance/).first()).toBeVisible();
  await saveScreenshot(page, "results-rollups-cuped");
  await page.close();
});
