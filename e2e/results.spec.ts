import { expect, test } from "@playwright/test";
import { E2E_ADMIN, E2E_MEMBER, fakePostHog } from "../playwright.config";
import { saveScreenshot, signIn } from "./helpers";

const RESULTS = "/admin/experiments/checkout-button-copy/results";

test("an admin reads the seeded test's results: verdict, charts, tables, calculator and CSV", async ({
  page,
}) => {
  await signIn(page, E2E_ADMIN, RESULTS);
  await expect(page.getByRole("heading", { name: "Results: checkout-button-copy" })).toBeVisible();

  const verdict = page.getByTestId("verdict");
  await expect(verdict).toBeVisible();
  await expect(verdict).toContainText(/chance to beat control/);
  await expect(verdict).toContainText(/Planned sample/);

  const forest = page.getByTestId("forest-plot");
  await expect(forest).toBeVisible();
  await expect(forest.locator("circle")).not.toHaveCount(0);
  const chart = page.getByTestId("cumulative-chart");
  await expect(chart.locator("polyline")).toHaveCount(2);

  const primary = page.getByTestId("metric-begin_checkout");
  await expect(primary.locator("tbody tr")).toHaveCount(2);
  await expect(primary.locator('tr[data-variant="treatment"] td').nth(3)).toContainText("%");
  await expect(page.getByTestId("metric-revenue")).toContainText("guardrail");
  await expect(page.getByTestId("results-health")).toContainText("matches the configured weights");
  await expect(page.getByTestId("srm-banner")).toHaveCount(0);
  // PostHog is configured for this server: the page links to the same numbers there.
  const insight = page.getByRole("link", { name: "Open in PostHog" });
  const href = (await insight.getAttribute("href")) ?? "";
  expect(href.startsWith(`${fakePostHog}/insights/new#q=`)).toBe(true);
  expect(decodeURIComponent(href)).toContain('"breakdown":"$feature/checkout-button-copy"');

  // The calculator answers as people type, and refuses nonsense with a reason.
  const calculator = page.getByTestId("sample-size-calculator");
  await calculator.getByLabel("Baseline conversion rate (%)").fill("10");
  await calculator.getByLabel("Minimum detectable effect (% relative)").fill("10");
  await calculator.getByLabel("Significance level (alpha)").fill("0.05");
  await calculator.getByLabel("Power (%)").fill("80");
  await expect(page.getByTestId("sample-size-result")).toContainText("14,751 per variant");
  await calculator.getByLabel("Baseline conversion rate (%)").fill("140");
  await expect(page.getByTestId("sample-size-result")).toContainText("between 0 and 100");
  await calculator.getByLabel("Baseline conversion rate (%)").fill("10");

  await saveScreenshot(page, "results");

  const download = await page.request.get(`${RESULTS}/export`);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-type"]).toContain("text/csv");
  const lines = (await download.text()).trim().split("\r\n");
  expect(lines[0]).toContain("relative_lift");
  expect(lines.some((line) => line.includes(",begin_checkout,primary,treatment,"))).toBe(true);

  // Analysis settings save through the same versioned update as every other edit.
  const settings = page.getByRole("form", { name: "Analysis settings" });
  await settings
    .getByRole("group", { name: /Lower is better/ })
    .getByLabel("purchase")
    .check();
  await settings.getByRole("button", { name: "Save analysis settings" }).click();
  await expect(settings.getByRole("status")).toHaveText("Saved");

  // Switching to intent-to-treat counts every assigned visitor (more than the exposed ones).
  const exposedN = Number(
    ((await primary.locator('tr[data-variant="control"] td').first().textContent()) ?? "").replace(/,/g, ""),
  );
  await page.getByRole("link", { name: "all assigned" }).click();
  await page.waitForURL(/population=assigned/);
  await expect(
    page.getByRole("navigation", { name: "Results options" }).locator("strong", { hasText: "all assigned" }),
  ).toBeVisible();
  const assignedN = Number(
    (
      (await page
        .getByTestId("metric-begin_checkout")
        .locator('tr[data-variant="control"] td')
        .first()
        .textContent()) ?? ""
    ).replace(/,/g, ""),
  );
  expect(assignedN).toBeGreaterThan(exposedN);
});

test("the results export is for admins only", async ({ page, request }) => {
  expect((await request.get(`${RESULTS}/export`)).status()).toBe(401);
  await signIn(page, E2E_MEMBER, "/");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
  expect((await page.request.get(`${RESULTS}/export`)).status()).toBe(403);
  const response = await page.goto(RESULTS);
  expect(response?.status()).toBe(403);
});
