import { type APIRequestContext, type Browser, expect, type Page, test } from "@playwright/test";
import { E2E_ADMIN, E2E_MEMBER } from "../playwright.config";
import { saveScreenshot, signIn } from "./helpers";

/** A public query from a fresh, anonymous browser: its own cookie, nothing shared with the admin. */
async function queryFromFreshBrowser(browser: Browser, procedure: string, input: unknown) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto("/");
    return await page.evaluate(
      async ({ procedure, input }) => {
        const query = encodeURIComponent(JSON.stringify({ json: input }));
        const response = await fetch(`/api/trpc/${procedure}?input=${query}`);
        const body = await response.json();
        return { status: response.status, data: body.result?.data?.json };
      },
      { procedure, input },
    );
  } finally {
    await context.close();
  }
}

type Served = { variant: string | null; reason: string };

/** What a visitor's browser gets for the id it names. */
async function visitorVariant(browser: Browser, slug: string, visitorId: string) {
  const { status, data } = await queryFromFreshBrowser(browser, "experiments.getVariant", {
    slug,
    visitorId,
  });
  return { status, ...(data ?? {}) } as { status: number } & Served;
}

/**
 * Types a new slug into the create form once the form is live: text typed before hydration is
 * lost, so it retries until the availability check (client-side) answers for it.
 */
async function fillNewSlug(page: Page, slug: string, type = false) {
  await expect(async () => {
    const field = page.getByLabel("Slug");
    await field.fill("");
    if (type) {
      await field.focus();
      await page.keyboard.type(slug);
    } else await field.fill(slug);
    await expect(page.locator("#slug-status")).toHaveText(`"${slug}" is available`, { timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
}

async function expectStatus(page: Page, status: string) {
  await expect(page.locator(`.badge[data-status="${status}"]`).first()).toBeVisible();
}

const ADMIN_PAGES = [
  "/admin/experiments",
  "/admin/experiments/new",
  "/admin/experiments/landing-hero",
  "/admin/experiments/landing-hero/targeting",
  "/admin/experiments/checkout-button-copy/results",
  "/admin/experiments/subjects",
  "/admin/experiments/flags",
  "/admin/experiments/delivery",
];

async function adminCalls(request: APIRequestContext) {
  const list = await request.get("/api/trpc/admin.experiments.list?input=%7B%22json%22%3A%7B%7D%7D");
  const create = await request.post("/api/trpc/admin.experiments.create", {
    data: {
      json: {
        slug: "sneaky-test",
        scope: "visitor",
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 50 },
        ],
      },
    },
  });
  const conclude = await request.post("/api/trpc/admin.experiments.updateStatus", {
    data: { json: { slug: "landing-hero", action: "conclude" } },
  });
  return [list.status(), create.status(), conclude.status()];
}

test("an admin runs an experiment from draft to a concluded winner, and visitors follow", async ({
  page,
  browser,
}) => {
  const slug = `e2e-checkout-${Date.now().toString(36)}`;
  const first = `visitor-first-${Date.now()}`;
  const second = `visitor-second-${Date.now()}`;

  await signIn(page, E2E_ADMIN, "/admin/experiments");
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  await expect(page.getByTestId("experiment-list")).toContainText("landing-hero");
  await saveScreenshot(page, "admin-experiments-list");

  await page.getByRole("link", { name: "New experiment" }).first().click();
  await expect(page.getByRole("heading", { name: "New experiment" })).toBeVisible();
  await page.getByLabel("Slug").fill("landing-hero");
  await expect(page.locator("#slug-status")).toHaveText('"landing-hero" is already taken');
  await page.getByLabel("Slug").fill("Bad Slug");
  await expect(page.locator("#slug-status")).toContainText("Use lower-case letters");
  await page.getByLabel("Slug").fill(slug);
  await expect(page.locator("#slug-status")).toHaveText(`"${slug}" is available`);
  await page.locator("#description").fill("Checkout button copy");
  await page.getByLabel("Percent").first().fill("70");
  await expect(page.getByTestId("variants-total")).toContainText("(must be 100%)");
  await page.getByRole("button", { name: "Split evenly" }).click();
  await expect(page.getByTestId("variants-total")).toHaveText("Total: 100% ✓");
  await page.getByLabel("Conversion events").fill("begin_checkout");
  await saveScreenshot(page, "admin-experiment-new");
  await page.getByRole("button", { name: "Create draft" }).click();

  await expect(page).toHaveURL(new RegExp(`/admin/experiments/${slug}$`));
  await expectStatus(page, "draft");
  expect((await visitorVariant(browser, slug, first)).variant).toBeNull();

  await page.getByRole("button", { name: "Start experiment" }).click();
  await expectStatus(page, "running");
  const seen = await visitorVariant(browser, slug, first);
  expect(seen).toMatchObject({ status: 200, reason: "assigned" });
  expect(["control", "treatment"]).toContain(seen.variant);

  await page.getByRole("button", { name: "Pause" }).click();
  await expectStatus(page, "paused");
  expect(await visitorVariant(browser, slug, second)).toMatchObject({ variant: null, reason: "not-running" });
  expect(await visitorVariant(browser, slug, first)).toMatchObject({
    variant: seen.variant,
    reason: "sticky",
  });

  await page.getByRole("button", { name: "Resume" }).click();
  await expectStatus(page, "running");

  await page.getByRole("button", { name: "Conclude…" }).click();
  const dialog = page.getByRole("dialog", { name: "Conclude the experiment" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("treatment").check();
  await dialog.getByRole("button", { name: "Conclude with treatment" }).click();
  await expectStatus(page, "concluded");
  await expect(page.getByTestId("winner")).toHaveText("treatment");
  for (const visitor of [first, second, `visitor-third-${Date.now()}`]) {
    expect(await visitorVariant(browser, slug, visitor)).toMatchObject({
      variant: "treatment",
      reason: "concluded",
    });
  }
  const audit = page.getByTestId("audit-log");
  for (const action of ["create", "start", "pause", "resume", "conclude"]) {
    await expect(audit.getByRole("cell", { name: action, exact: true })).toBeVisible();
  }
  await saveScreenshot(page, "admin-experiment-detail");

  await page.goto("/admin/experiments/landing-hero/targeting");
  await page.getByLabel("teams", { exact: true }).check();
  await page.getByLabel("Subject").selectOption("team");
  await page.getByLabel("Id", { exact: true }).fill("00000000-0000-4000-8000-00000000d3e0");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(page.getByTestId("targeting-preview-result")).toContainText("plans");
  await saveScreenshot(page, "admin-experiment-targeting");

  await page.goto(`/admin/experiments/subjects?kind=visitor&id=${first}`);
  await expect(page.getByTestId("subject-assignments")).toContainText(slug);
  await saveScreenshot(page, "admin-subject-lookup");

  // On a 390 px phone every page fits the screen: wide tables scroll inside their own box.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [path, name] of [
    ["/admin/experiments", "admin-experiments-list-phone"],
    [`/admin/experiments/${slug}`, "admin-experiment-detail-phone"],
    ["/admin/experiments/new", "admin-experiment-new-phone"],
    ["/admin/experiments/landing-hero/targeting", "admin-experiment-targeting-phone"],
    [`/admin/experiments/subjects?kind=visitor&id=${first}`, "admin-subject-lookup-phone"],
    ["/admin/experiments/checkout-button-copy/results", "admin-results-phone"],
  ] as const) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
    await saveScreenshot(page, name);
  }
});

/** What a fresh, anonymous browser is served for `slug` when its page asks for `?verdict_force=`. */
async function forcedForVisitor(browser: Browser, force: string, slug: string) {
  const { data } = await queryFromFreshBrowser(browser, "experiments.forRequest", { slugs: [slug], force });
  return data?.assignments?.[slug] as Served;
}

test("an admin opens the QA override to everyone and closes it, re-randomizes a running test, deletes it", async ({
  page,
  browser,
}) => {
  await signIn(page, E2E_ADMIN, "/admin/experiments/new");
  const slug = `qa-override-${Date.now().toString(36)}`;
  await fillNewSlug(page, slug);
  await page.getByLabel("Let anyone preview a variant").check();
  await page.getByRole("button", { name: "Create draft" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/experiments/${slug}$`));
  await page.getByRole("button", { name: "Start experiment" }).click();
  await expectStatus(page, "running");

  expect(await forcedForVisitor(browser, `${slug}:treatment`, slug)).toMatchObject({
    variant: "treatment",
    reason: "forced",
  });

  await page.getByLabel("Let anyone preview a variant").uncheck();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  const after = await forcedForVisitor(browser, `${slug}:treatment`, slug);
  expect(after.reason).not.toBe("forced");
  expect(["assigned", "sticky"]).toContain(after.reason);

  // A new split for a running test makes the admin choose what happens to existing assignments.
  const edit = page.getByRole("form", { name: "Edit experiment" });
  await edit.getByLabel("Percent").nth(0).fill("60");
  await edit.getByLabel("Percent").nth(1).fill("40");
  await expect(page.getByTestId("variant-change-choice")).toBeVisible();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByTestId("variant-change-choice").getByRole("alert")).toBeVisible();
  await page.getByLabel(/Re-randomize \(phase 2\)/).check();
  await saveScreenshot(page, "admin-experiment-rerandomize");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await expect(page.locator("dt", { hasText: "Phase" }).locator("+ dd")).toHaveText("2");
  // The refreshed page remounts the form on its new version; the confirmation must outlive that.
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();

  // Deleting asks for the slug typed out; the button stays disabled until it matches exactly.
  const removal = page.getByRole("form", { name: "Delete experiment" });
  await removal.getByLabel(/to confirm/).fill(slug.slice(0, -1));
  await expect(removal.getByRole("button", { name: "Delete experiment" })).toBeDisabled();
  await removal.getByLabel(/to confirm/).fill(slug);
  await removal.getByRole("button", { name: "Delete experiment" }).click();
  await expect(page).toHaveURL(/\/admin\/experiments$/);
  await expect(page.getByText(slug, { exact: true })).toHaveCount(0);
  expect((await visitorVariant(browser, slug, `visitor-after-delete-${Date.now()}`)).status).toBe(404);
});

test("the list filters by status and searches, with an empty state", async ({ page }) => {
  await signIn(page, E2E_ADMIN, "/admin/experiments");
  const list = page.getByTestId("experiment-list");
  await expect(list.getByText("landing-hero", { exact: true })).toBeVisible();

  await page.getByLabel("Search").fill("pricing");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/q=pricing/);
  await expect(list.getByText("pricing-page", { exact: true })).toBeVisible();
  await expect(list.getByText("landing-hero", { exact: true })).toHaveCount(0);

  await page.getByLabel("Search").fill("");
  await page.getByLabel("Status").selectOption("draft");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/status=draft/);
  await expect(page.getByText("landing-hero", { exact: true })).toHaveCount(0);

  await page.getByLabel("Search").fill("no-such-experiment-anywhere");
  await page.getByLabel("Status").selectOption("");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("experiments-empty")).toHaveText("No experiment matches this filter.");
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(list.getByText("landing-hero", { exact: true })).toBeVisible();
});

test("a draft can be created with the keyboard alone", async ({ page }) => {
  await signIn(page, E2E_ADMIN, "/admin/experiments/new");
  const slug = `keyboard-${Date.now().toString(36)}`;
  // Every control is reached by Tab from the slug field, in order, and named by its label.
  await fillNewSlug(page, slug, true);
  const reached: string[] = [];
  for (let step = 0; step < 40; step++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element) return "";
      const id = element.getAttribute("id");
      const label = id ? document.querySelector(`label[for="${id}"]`)?.textContent : null;
      return (label ?? element.getAttribute("aria-label") ?? element.textContent ?? "").trim();
    });
    reached.push(name);
    if (name === "Create draft") break;
  }
  expect(reached).toContain("Description");
  expect(reached).toContain("Conversion events");
  expect(reached.at(-1)).toBe("Create draft");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/admin/experiments/${slug}$`));
  await expectStatus(page, "draft");
});

test("a member gets 403 from every admin page and procedure", async ({ page }) => {
  await signIn(page, E2E_MEMBER, "/");
  await expect(page).toHaveURL(/\/$/);
  for (const path of ADMIN_PAGES) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(403);
  }
  expect(await adminCalls(page.request)).toEqual([403, 403, 403]);
});

test("an anonymous user is sent to sign-in and refused every procedure", async ({ page }) => {
  for (const path of ADMIN_PAGES) {
    await page.goto(path);
    await expect(page, path).toHaveURL(/\/signin\?callbackUrl=/);
  }
  expect(await adminCalls(page.request)).toEqual([401, 401, 401]);
});
