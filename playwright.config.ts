import { defineConfig, devices } from "@playwright/test";

// `npm run test:e2e` (scripts/e2e.ts) builds the app, makes a fresh PGlite folder and sets these.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const fakePostHogPort = Number(process.env.E2E_POSTHOG_PORT ?? 3199);
export const fakePostHog = `http://127.0.0.1:${fakePostHogPort}`;

export const E2E_ADMIN = {
  email: "admin@verdict.local",
  password: process.env.E2E_ADMIN_PASSWORD ?? "e2e-admin-password",
};
export const E2E_MEMBER = {
  email: "member@verdict.local",
  password: process.env.E2E_MEMBER_PASSWORD ?? "e2e-member-password",
};

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download is not available here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"] } }],
  webServer: [
    {
      // Stands in for PostHog: the app delivers events to it and /ingest forwards to it.
      command: `node --import tsx e2e/fake-posthog-server.ts`,
      url: `${fakePostHog}/__health`,
      timeout: 30_000,
      reuseExistingServer: false,
      env: { FAKE_POSTHOG_PORT: String(fakePostHogPort) },
    },
    {
      command: "npm start",
      url: `${baseURL}/api/trpc/health.check`,
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PORT: String(port),
        NEXTAUTH_URL: baseURL,
        PGLITE_DATA_DIR: process.env.E2E_PGLITE_DATA_DIR ?? ".data/e2e/pglite",
        SEED_ADMIN_PASSWORD: E2E_ADMIN.password,
        SEED_MEMBER_PASSWORD: E2E_MEMBER.password,
        NEXT_TELEMETRY_DISABLED: "1",
        POSTHOG_API_KEY: "phc_e2e_test_key",
        POSTHOG_HOST: fakePostHog,
      },
    },
  ],
});
