import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type Browser, type BrowserContext, expect } from "@playwright/test";
import Redis from "ioredis";
import { withPgClient } from "../src/server/db/pg-client";
import { FakePostHog } from "../tests/integration/fake-posthog";
import { redisAnswers } from "../tests/integration/redis-probe";
import { type AppInstance, runScript, startApp, stopProcess } from "./app-process";

const ADMIN = { email: "admin@verdict.local", password: "multi-instance-admin-password" };

/**
 * Two `next start` processes on one PostgreSQL, as behind a load balancer, for the multi-instance
 * spec. Each run gets its own database (dropped afterwards), its own fake PostHog and, when Redis
 * answers, shared rate limits; every request names a run-unique client address so budgets never
 * mix with other runs', and the rate-limit keys it made are deleted afterwards.
 */
export class InstanceCluster {
  readonly runId = randomBytes(4).toString("hex");
  /** TEST-NET-3 addresses picked per run, one per kind of traffic. */
  readonly ip: Record<"admin" | "assign" | "events" | "propagation" | "flood", string>;
  databaseUrl = "";
  fakePostHog = new FakePostHog();
  instances: AppInstance[] = [];
  redisUp = false;
  private adminContext: BrowserContext | null = null;
  private postHogListening = false;
  /** Every server process started, healthy or not, so stop() ends them even after a failed start. */
  private readonly started: ChildProcess[] = [];
  /** Every visitor id and address the run sends: their keys in Redis are deleted afterwards. */
  private readonly rateLimitSubjects = new Set<string>();
  private readonly databaseName = `verdict_e2e_multi_${this.runId}`;

  constructor(
    private readonly adminUrl: string,
    readonly redisUrl: string,
    private readonly ports: readonly number[],
  ) {
    const base = Number.parseInt(this.runId, 16) % 200;
    this.ip = {
      admin: `203.0.113.${base}`,
      assign: `203.0.113.${base + 1}`,
      events: `203.0.113.${base + 2}`,
      propagation: `203.0.113.${base + 3}`,
      flood: `203.0.113.${base + 4}`,
    };
    for (const address of Object.values(this.ip)) this.rateLimitSubjects.add(address);
  }

  /** The signed-in admin's browser context (on the first instance; the session is valid on both). */
  get admin(): BrowserContext {
    if (!this.adminContext) throw new Error("the cluster has not started");
    return this.adminContext;
  }

  /** Migrates and seeds once per deploy, before the instances start (as docs/DEPLOYMENT.md says). */
  async start(browser: Browser): Promise<void> {
    this.redisUp = await redisAnswers(this.redisUrl);
    await this.fakePostHog.start();
    this.postHogListening = true;
    await withPgClient(this.adminUrl, (client) => client.query(`CREATE DATABASE "${this.databaseName}"`));
    const url = new URL(this.adminUrl);
    url.pathname = `/${this.databaseName}`;
    this.databaseUrl = url.toString();
    await runScript(["scripts/db.ts", "seed"], this.serverEnv());
    this.instances = await Promise.all(
      this.ports.map((port) => startApp(port, this.serverEnv(port), this.started)),
    );
    this.adminContext = await this.signInAdmin(browser, this.instances[0] as AppInstance);
  }

  async stop(): Promise<void> {
    await this.adminContext?.close().catch(() => {});
    await Promise.all(this.started.map(stopProcess));
    if (this.postHogListening) await this.fakePostHog.stop();
    if (this.databaseUrl)
      await withPgClient(this.adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`),
      );
    if (this.redisUp) {
      const redis = new Redis(this.redisUrl);
      const keys = await redis.keys("verdict:rl:*");
      const ours = keys.filter((key) => this.rateLimitSubjects.has(key.slice(key.lastIndexOf(":") + 1)));
      if (ours.length) await redis.del(...ours);
      await redis.quit();
    }
  }

  /** `experiments.getVariant` over HTTP, from the given client address. */
  async getVariant(instance: AppInstance, slug: string, visitorId: string, ip: string) {
    this.rateLimitSubjects.add(visitorId);
    const input = encodeURIComponent(JSON.stringify({ json: { slug, visitorId } }));
    const response = await fetch(`${instance.base}/api/trpc/experiments.getVariant?input=${input}`, {
      headers: { "x-forwarded-for": ip },
    });
    const body = await response.json();
    return { status: response.status, data: body.result?.data?.json, error: body.error?.json };
  }

  /** The variant served, which must be served (200). */
  async variantOf(instance: AppInstance, slug: string, visitorId: string, ip: string) {
    const { status, data, error } = await this.getVariant(instance, slug, visitorId, ip);
    expect(status, JSON.stringify(error)).toBe(200);
    return data as { variant: string | null; reason: string };
  }

  /** An admin procedure through the signed-in browser context. */
  async adminMutation(instance: AppInstance, path: string, input: unknown): Promise<void> {
    const response = await this.admin.request.post(`${instance.base}/api/trpc/${path}`, {
      data: { json: input },
    });
    expect(response.status(), await response.text()).toBe(200);
  }

  private serverEnv(port?: number): NodeJS.ProcessEnv {
    return {
      NODE_ENV: "production",
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      DATABASE_URL: this.databaseUrl,
      // One secret for every instance: a session signed by one is valid on the other.
      AUTH_SECRET: `multi-instance-secret-${this.runId}-0123456789abcdef`,
      SEED_ADMIN_PASSWORD: ADMIN.password,
      POSTHOG_API_KEY: "phc_multi_instance",
      POSTHOG_HOST: this.fakePostHog.url,
      // The seeded demo's 3,500 visitors make it a large test here: its results read the rollups.
      RESULTS_ROLLUP_THRESHOLD: "1000",
      ...(this.redisUp ? { REDIS_URL: this.redisUrl } : {}),
      ...(port ? { PORT: String(port), NEXTAUTH_URL: `http://127.0.0.1:${port}` } : {}),
    };
  }

  private async signInAdmin(browser: Browser, instance: AppInstance): Promise<BrowserContext> {
    const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": this.ip.admin } });
    const page = await context.newPage();
    await page.goto(`${instance.base}/signin?callbackUrl=%2Fadmin%2Fexperiments`);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/experiments$/);
    await page.close();
    return context;
  }
}
