import { type BrowserContext, expect, type Request, test } from "@playwright/test";
import { fakePostHog } from "../playwright.config";
import { saveScreenshot } from "./helpers";

type Captured = { path: string; events: { event: string; distinct_id?: string; timestamp?: string }[] }[];

function watchAnalytics(context: BrowserContext): string[] {
  const seen: string[] = [];
  context.on("request", (request: Request) => {
    const url = request.url();
    if (url.includes("/ingest") || url.startsWith(fakePostHog) || url.includes("posthog.com")) seen.push(url);
  });
  return seen;
}

async function captured(): Promise<Captured> {
  return (await fetch(`${fakePostHog}/__captured`)).json() as Promise<Captured>;
}

test("without consent nothing goes to PostHog or /ingest; declining keeps it that way", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const analytics = watchAnalytics(context);
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByTestId("consent-banner")).toBeVisible();
  await expect(page.locator('[data-experiment="landing-hero"]')).toBeVisible();
  await saveScreenshot(page, "consent-banner");
  await page.waitForTimeout(2000);
  expect(analytics).toEqual([]);

  await page.getByTestId("consent-decline").click();
  await expect(page.getByTestId("consent-banner")).toBeHidden();
  await page.reload();
  await page.waitForTimeout(1500);
  await expect(page.getByTestId("consent-banner")).toBeHidden();
  expect(analytics).toEqual([]);
  const cookies = (await context.cookies()).map((cookie) => cookie.name).sort();
  expect(cookies).toEqual(["verdict_consent", "verdict_vid"]);
  await context.close();
});

test("Global Privacy Control is a refusal: no banner, no PostHog", async ({ browser }) => {
  const context = await browser.newContext({ extraHTTPHeaders: { "Sec-GPC": "1" } });
  await context.addInitScript(() =>
    Object.defineProperty(navigator, "globalPrivacyControl", { value: true }),
  );
  const analytics = watchAnalytics(context);
  const page = await context.newPage();
  await page.goto("/");
  await page.waitForTimeout(1500);
  await expect(page.getByTestId("consent-banner")).toHaveCount(0);
  expect(analytics).toEqual([]);
  await context.close();
});

test("accepting loads PostHog through /ingest and releases the held exposure with its original time", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const analytics = watchAnalytics(context);
  const page = await context.newPage();
  const before = Date.now();
  await page.goto("/");
  const visitorId = (await context.cookies()).find((cookie) => cookie.name === "verdict_vid")?.value;
  // The exposure is recorded at once (held for consent), well before the visitor answers.
  await page.waitForTimeout(2500);
  expect(analytics).toEqual([]);
  await page.getByTestId("consent-accept").click();
  await expect.poll(() => analytics.length, { timeout: 15_000 }).toBeGreaterThan(0);
  expect(analytics.every((url) => url.includes("/ingest/"))).toBe(true);

  await expect
    .poll(
      async () =>
        (await captured())
          .flatMap((entry) => entry.events)
          .find((event) => event.event === "experiment_viewed" && event.distinct_id === visitorId),
      { timeout: 20_000 },
    )
    .toBeTruthy();
  const exposure = (await captured())
    .flatMap((entry) => entry.events)
    .find((event) => event.event === "experiment_viewed" && event.distinct_id === visitorId);
  const at = new Date(exposure?.timestamp ?? 0).getTime();
  expect(at).toBeGreaterThanOrEqual(before - 1000);
  expect(at).toBeLessThan(Date.now() - 1500);
  await context.close();
});
