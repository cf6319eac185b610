import { type Browser, type BrowserContext, expect, type Page, test } from "@playwright/test";
import { E2E_ADMIN, E2E_MEMBER } from "../playwright.config";
import { saveScreenshot, signIn } from "./helpers";

const HERO = '[data-experiment="landing-hero"]';

async function heroVariant(page: Page): Promise<string | null> {
  return page.locator(HERO).getAttribute("data-variant");
}

async function visitorIdOf(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((candidate) => candidate.name === "verdict_vid");
  if (!cookie) throw new Error("no visitor cookie");
  return cookie.value;
}

/** What the admin console's subject lookup says about a visitor (assignments, exposure events). */
async function lookUpVisitor(browser: Browser, visitorId: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, E2E_ADMIN, "/admin/experiments");
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  const input = encodeURIComponent(JSON.stringify({ json: { kind: "visitor", id: visitorId } }));
  const response = await page.request.get(`/api/trpc/admin.experiments.subject?input=${input}`);
  const rows = (await response.json()).result.data.json as {
    experimentSlug: string;
    variant: string;
    exposureEvents: number;
  }[];
  await context.close();
  return rows;
}

test("the server's HTML already carries the assigned variant, and it stays put", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto("/");
  const html = (await response?.text()) ?? "";
  const inHtml = /data-experiment="landing-hero" data-variant="(control|treatment)"/.exec(html)?.[1];
  expect(inHtml).toBeDefined();
  await expect(page.locator(HERO)).toHaveAttribute("data-variant", inHtml as string);
  await saveScreenshot(page, "home-landing-hero");

  await page.reload();
  expect(await heroVariant(page)).toBe(inHtml);
  const tab = await context.newPage();
  await tab.goto("/");
  expect(await heroVariant(tab)).toBe(inHtml);
  await page.evaluate(() => window.localStorage.clear());
  await page.reload();
  expect(await heroVariant(page)).toBe(inHtml);
  // The visitor id is mirrored into localStorage.
  expect(await page.evaluate(() => window.localStorage.getItem("verdict_vid"))).toBe(
    await visitorIdOf(context),
  );
  await context.close();
});

test("fresh browsers get their own assignments, and both variants appear across 40 of them", async ({
  browser,
}) => {
  const seen = new Map<string, string>();
  for (let i = 0; i < 40; i++) {
    const context = await browser.newContext();
    const response = await context.request.get("/");
    const variant = /data-experiment="landing-hero" data-variant="(control|treatment)"/.exec(
      await response.text(),
    )?.[1];
    const visitor = await visitorIdOf(context);
    expect(variant, `visitor ${visitor}`).toBeDefined();
    seen.set(visitor, variant as string);
    await context.close();
  }
  expect(seen.size).toBe(40);
  expect(new Set(seen.values())).toEqual(new Set(["control", "treatment"]));
});

test("one visitor produces one exposure however often they reload, with no layout shift", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const shifts: number[] = [];
    (window as unknown as { __shifts: number[] }).__shifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & {
        value: number;
        hadRecentInput: boolean;
      })[]) {
        if (!entry.hadRecentInput) shifts.push(entry.value);
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
  const page = await context.newPage();
  const tracked: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("events.track")) tracked.push(request.postData() ?? "");
  });
  await page.goto("/");
  const variant = await heroVariant(page);
  await expect.poll(() => tracked.length, { timeout: 10_000 }).toBe(1);
  for (let i = 0; i < 4; i++) {
    await page.reload();
    await page.waitForTimeout(300);
  }
  await page.waitForTimeout(1500);
  expect(tracked).toHaveLength(1);
  expect(tracked[0]).toContain('"type":"exposure"');
  const shift = await page.evaluate(() =>
    (window as unknown as { __shifts: number[] }).__shifts.reduce((a, b) => a + b, 0),
  );
  expect(shift).toBe(0);

  const visitor = await visitorIdOf(context);
  const rows = await lookUpVisitor(browser, visitor);
  expect(rows.find((row) => row.experimentSlug === "landing-hero")).toMatchObject({
    variant,
    exposureEvents: 1,
  });

  await page.getByTestId("landing-hero-cta").click();
  await expect.poll(() => tracked.length, { timeout: 10_000 }).toBe(2);
  expect(tracked[1]).toContain('"event":"cta_click"');
  await context.close();
});

test("signing in keeps the variant the visitor saw; team members see one layout", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/");
  const before = await heroVariant(page);
  await signIn(page, E2E_MEMBER, "/");
  await expect(page).toHaveURL(/\/$/);
  expect(await heroVariant(page)).toBe(before);

  await page.goto("/team");
  const memberLayout = await page
    .locator('[data-experiment="team-dashboard-layout"]')
    .getAttribute("data-variant");
  expect(["control", "cards"]).toContain(memberLayout);
  await saveScreenshot(page, "team-dashboard");

  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, E2E_ADMIN, "/team");
  await expect(adminPage).toHaveURL(/\/team$/);
  await expect(adminPage.locator('[data-experiment="team-dashboard-layout"]')).toHaveAttribute(
    "data-variant",
    memberLayout as string,
  );

  await page.goto("/pricing");
  await expect(page.locator('[data-experiment="pricing-page"]')).toHaveAttribute(
    "data-variant",
    /^(control|annual-first|value-first)$/,
  );
  await saveScreenshot(page, "pricing");
  await context.close();
  await adminContext.close();
});

test("the QA override shows the forced variant to an admin and writes nothing", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const tracked: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("events.track")) tracked.push(request.postData() ?? "");
  });

  // A visitor cannot force a test that does not allow it.
  const anonymous = await browser.newContext();
  const visitorPage = await anonymous.newPage();
  await visitorPage.goto("/");
  const ownVariant = await heroVariant(visitorPage);
  const other = ownVariant === "control" ? "treatment" : "control";
  await visitorPage.goto(`/?verdict_force=landing-hero:${other}`);
  expect(await heroVariant(visitorPage)).toBe(ownVariant);
  await anonymous.close();

  await signIn(page, E2E_ADMIN, "/admin/experiments");
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  for (const forced of ["treatment", "control"]) {
    await page.goto(`/?verdict_force=landing-hero:${forced}`);
    await expect(page.locator(HERO)).toHaveAttribute("data-variant", forced);
  }
  await page.waitForTimeout(1500);
  expect(tracked).toEqual([]);
  const rows = await lookUpVisitor(browser, await visitorIdOf(context));
  expect(rows.find((row) => row.experimentSlug === "landing-hero")).toBeUndefined();
  await context.close();
});
