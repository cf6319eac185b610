import { mkdirSync } from "node:fs";
import type { Page } from "@playwright/test";

const SCREENSHOT_DIR = "test-results/screenshots";

/** Full-page screenshots of pages people look at, kept with the run's results. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

export async function signIn(
  page: Page,
  credentials: { email: string; password: string },
  callbackPath: string,
) {
  await page.goto(`/signin?callbackUrl=${encodeURIComponent(callbackPath)}`);
  await page.getByLabel("Email").fill(credentials.email);
  await page.getByLabel("Password").fill(credentials.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
