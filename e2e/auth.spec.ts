import { expect, type Page, test } from "@playwright/test";
import { E2E_ADMIN, E2E_MEMBER } from "../playwright.config";
import { signIn } from "./helpers";

// Budget note: every spec signs in from 127.0.0.1, and the server allows one address 30
// credential attempts per 15 minutes. This file makes 9 (1 + 1 + 6 + 1); the other specs make
// about 10 in one run.

const ADMIN_LIST = `/api/trpc/admin.experiments.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`;

/** Submits the sign-in form once and returns the message it then shows. */
async function submitPassword(page: Page, password: string): Promise<string> {
  await page.getByLabel("Password").fill(password);
  const answered = page.waitForResponse(
    (response) =>
      response.url().includes("/api/auth/callback/credentials") && response.request().method() === "POST",
  );
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await answered;
  // The form is usable again once it has shown the outcome.
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeEnabled();
  return (await page.locator("#signin-error").textContent()) ?? "";
}

test("an admin signs in and out, and the console asks for sign-in again", async ({ page }) => {
  // First as an anonymous visitor, who is assigned a landing-hero variant.
  await page.goto("/");
  await expect(page.locator('[data-experiment="landing-hero"]')).toHaveAttribute(
    "data-variant",
    /^(control|treatment)$/,
  );

  await signIn(page, E2E_ADMIN, "/admin/experiments");
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  await expect(page.getByTestId("experiment-list")).toBeVisible();
  expect((await page.request.get(ADMIN_LIST)).status()).toBe(200);

  // Signing in carried the visitor's assignment over to the user (read from the real cookie by
  // the sign-in route). Other specs sign the admin in too, so this checks that the user has a
  // carried-over landing-hero row, not which sign-in made it; the integration tests check more.
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session.user).toMatchObject({ email: E2E_ADMIN.email, role: "ADMIN" });
  const input = encodeURIComponent(JSON.stringify({ json: { kind: "user", id: session.user.id } }));
  const subject = await (await page.request.get(`/api/trpc/admin.experiments.subject?input=${input}`)).json();
  expect(subject.result.data.json).toContainEqual(
    expect.objectContaining({ experimentSlug: "landing-hero", origin: "VISITOR_CARRYOVER" }),
  );

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/^http:\/\/[^/]+\/$/);
  const cookies = await page.context().cookies();
  expect(cookies.filter((cookie) => cookie.name.includes("session-token"))).toEqual([]);

  await page.goto("/admin/experiments");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fadmin%2Fexperiments$/);
  await expect(page.getByRole("heading", { name: "Sign in to Verdict" })).toBeVisible();
  expect((await page.request.get(ADMIN_LIST)).status()).toBe(401);
});

test("a wrong password says so, and does not sign in", async ({ page }) => {
  await page.goto("/signin?callbackUrl=%2Fadmin%2Fexperiments");
  await page.getByLabel("Email").fill(E2E_MEMBER.email);
  expect(await submitPassword(page, "not-the-member-password")).toBe("Wrong email or password.");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fadmin%2Fexperiments$/);
  expect((await page.context().cookies()).filter((cookie) => cookie.name.includes("session-token"))).toEqual(
    [],
  );
});

test("repeated wrong passwords for one email are stopped with a clear message", async ({ page }) => {
  // An address no other spec uses: its budget of 5 failures is this test's alone.
  const email = `guessed-${Date.now().toString(36)}@e2e.verdict.local`;
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    expect(await submitPassword(page, `guess-number-${attempt}`), `attempt ${attempt}`).toBe(
      "Wrong email or password.",
    );
  }
  // 15 minutes, or 14 on a slow run: the window started at the first wrong password.
  expect(await submitPassword(page, "guess-number-6")).toMatch(
    /^Too many sign-in attempts\. Try again in 1[45] minutes\.$/,
  );
  await expect(page.locator("#signin-error")).toHaveAttribute("role", "alert");
});

test("a member is refused the console with 403", async ({ page }) => {
  await signIn(page, E2E_MEMBER, "/");
  await expect(page).toHaveURL(/^http:\/\/[^/]+\/$/);
  const response = await page.goto("/admin/experiments");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "403: admins only" })).toBeVisible();
  expect((await page.request.get(ADMIN_LIST)).status()).toBe(403);
});
