import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createDatabase, type DatabaseHandle } from "@/server/db/client";
import { withPgClient } from "@/server/db/pg-client";

/**
 * What the HTTP benchmarks need around them: a throwaway PostgreSQL database, the production build
 * of the app serving from it (`tsx scripts/serve.ts start`, which migrates first), and a clean
 * stop of both. `.next` is shared with the e2e tests: run the benchmark under the same lock they
 * use (see bench/http.ts) so nobody rebuilds it underneath the server.
 */

/** The PostgreSQL server the throwaway databases go on (any database of it: only the host matters). */
export function postgresServerUrl(): string {
  return (
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    "postgresql://postgres@127.0.0.1:5432/postgres"
  );
}

export type ThrowawayDatabase = {
  name: string;
  url: string;
  /** Drops the database (closing whatever still holds a connection to it). */
  drop(): Promise<void>;
};

/** Creates an empty database named `verdict_bench_<pid>` (or `name`) on the benchmark server. */
export async function createThrowawayDatabase(
  options: { serverUrl?: string; name?: string } = {},
): Promise<ThrowawayDatabase> {
  const serverUrl = options.serverUrl ?? postgresServerUrl();
  const name = options.name ?? `verdict_bench_${process.pid}`;
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  await withPgClient(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withPgClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Refreshes the planner's statistics, as autovacuum would within a minute of the data being
 * written: measuring right after seeding would otherwise time plans made for an empty database.
 */
export async function analyze(url: string): Promise<void> {
  await withPgClient(url, (client) => client.query("ANALYZE"));
}

/**
 * Stores `visitors` as enrolled in the experiments `slugs` (their current phase, the first
 * variant) straight into the database, as another instance would have: the served instance has
 * never seen them, so their first request is a sticky read from PostgreSQL, not from its cache.
 */
export async function storeAssignmentsElsewhere(
  url: string,
  visitors: string[],
  slugs: string[],
): Promise<void> {
  await withPgClient(url, (client) =>
    client.query(
      `INSERT INTO "ExperimentVariant" ("id", "experimentSlug", "phase", "variant", "assignmentType", "visitorId")
       SELECT gen_random_uuid(), feature."slug", (feature."metadata"->>'phase')::int,
         feature."metadata"->'variants'->0->>'name', 'DETERMINISTIC', visitor."id"
       FROM "Feature" feature CROSS JOIN unnest($2::text[]) AS visitor("id")
       WHERE feature."slug" = ANY($1::text[])`,
      [slugs, visitors],
    ),
  );
}

/** A Prisma client on a database, for seeding and for checking what the app wrote. */
export function openDatabase(url: string, poolSize = 4): DatabaseHandle {
  return createDatabase({ kind: "postgres", url }, { poolSize });
}

/**
 * Migrates and seeds the demo data (users, team, running experiments) with the checkout's own
 * `scripts/db.ts seed`, so schema and seed always match the build being served.
 */
export async function seedDemo(url: string, appDir = process.cwd()): Promise<void> {
  let output = "";
  const child = spawn(process.execPath, [tsxCli(appDir), "scripts/db.ts", "seed"], {
    cwd: appDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: url,
      SEED_ADMIN_PASSWORD: "bench-admin-password",
      SEED_MEMBER_PASSWORD: "bench-member-password",
      LOG_LEVEL: "warn",
    },
  });
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`seeding failed (exit ${code}):\n${output}`);
}

function tsxCli(appDir: string): string {
  return path.join(appDir, "node_modules", "tsx", "dist", "cli.mjs");
}

export type AppServer = {
  url: string;
  /** The supervisor's pid: the app is this process and its children (see cpu.ts). */
  pid: number;
  /** Everything the server printed, for diagnosing a failed start. */
  output: () => string;
  /** SIGTERM (the dispatcher finishes its batch), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
};

export type StartAppOptions = {
  port: number;
  databaseUrl: string;
  /** The checkout to serve (default: the current directory). */
  appDir?: string;
  /** Extra variables, e.g. POSTHOG_API_KEY; they win over the defaults below. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
};

/** Runs `next build` once when the checkout has no production build. */
export async function ensureBuild(appDir = process.cwd()): Promise<void> {
  if (existsSync(path.join(appDir, ".next", "BUILD_ID"))) return;
  console.error("• No production build: running next build (a few minutes)");
  const child = spawn(process.execPath, [nextBin(appDir), "build"], {
    cwd: appDir,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`next build failed (exit ${code})`);
}

function nextBin(appDir: string): string {
  return path.join(appDir, "node_modules", "next", "dist", "bin", "next");
}

/** Environment every app process of a benchmark shares (the server and a separate dispatcher). */
function appEnv(options: {
  port?: number;
  databaseUrl: string;
  env?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "production" as const,
    ...(options.port ? { PORT: String(options.port), NEXTAUTH_URL: `http://127.0.0.1:${options.port}` } : {}),
    DATABASE_URL: options.databaseUrl,
    AUTH_SECRET: "bench-secret-bench-secret-bench-secret-0123456789",
    NEXT_TELEMETRY_DISABLED: "1",
    EVENTS_DISPATCHER: "off",
    LOG_LEVEL: "warn",
    ...options.env,
  };
}

/** A tsx script of the checkout in its own process group, its output kept for diagnosis. */
function spawnScript(appDir: string, args: string[], env: NodeJS.ProcessEnv) {
  let output = "";
  const child = spawn(process.execPath, [tsxCli(appDir), ...args], {
    cwd: appDir,
    // Its own process group, so stopping it reaches its children (next start) too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Starts the production server and resolves once it answers HTTP. */
export async function startApp(options: StartAppOptions): Promise<AppServer> {
  const appDir = options.appDir ?? process.cwd();
  const { child, exited, output } = spawnScript(appDir, ["scripts/serve.ts", "start"], appEnv(options));
  const url = `http://127.0.0.1:${options.port}`;
  const server: AppServer = {
    url,
    pid: child.pid ?? 0,
    output,
    stop: (graceMs) => stopChild(child, exited, graceMs),
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the app exited (${child.exitCode}) before it was ready:\n${output()}`);
    // A missing build asset: answered by Next without the proxy, a route or the database.
    const answered = await fetch(`${url}/_next/static/bench-ready-probe`).then(
      (response) => response.arrayBuffer().then(() => true),
      () => false,
    );
    if (answered) return server;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await server.stop();
  throw new Error(`the app did not answer within the time limit:\n${output()}`);
}

/** `npm run events:dispatch` as its own process: the outbox worker of deployments that separate it. */
export function startDispatcherWorker(options: Omit<StartAppOptions, "port" | "readyTimeoutMs">): AppServer {
  const appDir = options.appDir ?? process.cwd();
  const { child, exited, output } = spawnScript(appDir, ["scripts/events-dispatch.ts"], appEnv(options));
  return { url: "", pid: child.pid ?? 0, output, stop: (graceMs) => stopChild(child, exited, graceMs) };
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  graceMs = 15_000,
): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const group = -child.pid;
  try {
    process.kill(group, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(group, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs `cleanup` once, whether the benchmark ends normally, throws or is interrupted (Ctrl-C), so
 * no server keeps running and no database is left behind.
 */
export function onExit(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = () => {
    done ??= cleanup().catch((error) => console.error("cleanup failed:", error));
    return done;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void run().finally(() => process.exit(130));
    });
  }
  return run;
}
