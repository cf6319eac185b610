import { expect, test } from "@playwright/test";
import { E2E_ADMIN, E2E_MEMBER } from "../playwright.config";
import { saveScreenshot, signIn } from "./helpers";

test("the home page renders with the seeded database behind it", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1, name: "Verdict" })).toBeVisible();
  await expect(page.getByTestId("health-status")).toContainText("Database OK");
  await expect(page.getByTestId("health-status")).toContainText("4 running experiments");
  await saveScreenshot(page, "home");
});

test("an anonymous visitor to /admin/experiments is sent to sign-in, and back after it", async ({ page }) => {
  await page.goto("/admin/experiments");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fadmin%2Fexperiments$/);
  await expect(page.getByRole("heading", { name: "Sign in to Verdict" })).toBeVisible();
  await saveScreenshot(page, "signin");

  await page.getByLabel("Email").fill(E2E_ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#signin-error")).toHaveText("Wrong email or password.");

  await page.getByLabel("Password").fill(E2E_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  await expect(page.getByTestId("experiment-list")).toContainText("landing-hero");
});

test("a member is refused the admin pages with 403", async ({ page }) => {
  await signIn(page, E2E_MEMBER, "/");
  await expect(page).toHaveURL(/\/$/);
  const response = await page.goto("/admin/experiments");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "403: admins only" })).toBeVisible();
});

test("a first page sets the visitor cookie; the API and build assets leave it to the page", async ({
  playwright,
  baseURL,
}) => {
  const anonymous = await playwright.request.newContext({ baseURL });
  try {
    const visitorCookie = (headers: { name: string; value: string }[]) =>
      headers.filter(
        (header) => header.name.toLowerCase() === "set-cookie" && header.value.startsWith("verdict_vid="),
      );
    const page = await anonymous.get("/pricing", { maxRedirects: 0 });
    expect(page.status()).toBe(200);
    const [set] = visitorCookie(page.headersArray());
    expect(set?.value).toMatch(
      /^verdict_vid=[0-9a-f-]{36}; Path=\/; Expires=.+; Max-Age=\d+; SameSite=lax$/i,
    );

    // A fresh context again: no cookie jar carrying the page's cookie along.
    const bare = await playwright.request.newContext({ baseURL });
    try {
      const api = await bare.get("/api/trpc/experiments.listActiveExperiments");
      expect(api.status()).toBe(200);
      expect(visitorCookie(api.headersArray())).toEqual([]);
      const relay = await bare.get("/ingest/decide");
      expect(visitorCookie(relay.headersArray())).toEqual([]);
      const again = await bare.get("/");
      expect(visitorCookie(again.headersArray())).toHaveLength(1);
    } finally {
      await bare.dispose();
    }
  } finally {
    await anonymous.dispose();
  }
});
