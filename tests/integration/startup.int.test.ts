import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertDatabaseReachable, DatabaseUnavailableError } from "@/server/db/connection";
import { createTestDatabase, postgresAdminUrl, uniqueDatabaseName } from "./databases";
import { startPasswordRejectingServer } from "./fake-postgres";

const repoRoot = path.resolve(import.meta.dirname, "../..");

type CommandResult = { status: number | null; stdout: string; stderr: string };

/**
 * Runs an npm script's command the way a user would, with a chosen environment. Asynchronous, so
 * servers in this process (the fake PostgreSQL) keep answering while it runs.
 */
function runDbCommand(
  args: string[],
  env: Record<string, string>,
  script = "scripts/db.ts",
): Promise<CommandResult> {
  const tsx = path.join(repoRoot, "node_modules/.bin/tsx");
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !["DATABASE_URL", "PGLITE_DATA_DIR", "AUTH_SECRET", "NEXTAUTH_SECRET"].includes(key),
    ),
  );
  const child = spawn(tsx, [script, ...args], {
    cwd: repoRoot,
    env: { ...clean, NODE_ENV: "development", ...env },
    timeout: 120_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("start-up checks", () => {
  it("npm start on PostgreSQL without AUTH_SECRET refuses to start, whatever NODE_ENV says", async () => {
    const result = await runDbCommand(
      ["start"],
      { DATABASE_URL: "postgresql://postgres@127.0.0.1:1/verdict", PORT: "3398" },
      "scripts/serve.ts",
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("AUTH_SECRET is required in production on PostgreSQL");
  });

  it("a PostgreSQL server that is down stops the command with one clear line", async () => {
    const url = "postgresql://postgres@127.0.0.1:1/verdict";
    await expect(assertDatabaseReachable({ kind: "postgres", url })).rejects.toThrow(
      DatabaseUnavailableError,
    );

    const result = await runDbCommand(["migrate"], { DATABASE_URL: url });
    expect(result.status).toBe(1);
    const errorLines = result.stderr.split("\n").filter((line) => line.trim() && !line.includes("npm warn"));
    expect(errorLines).toEqual([
      "✗ Cannot connect to PostgreSQL at 127.0.0.1:1: connection refused. Is the server running? (DATABASE_URL)",
    ]);
  });

  it("a wrong password stops the command with one clear line", async () => {
    const server = await startPasswordRejectingServer();
    try {
      const url = `postgresql://app:wrong@127.0.0.1:${server.port}/verdict`;
      const result = await runDbCommand(["migrate"], { DATABASE_URL: url });
      expect(result.status).toBe(1);
      const errorLines = result.stderr
        .split("\n")
        .filter((line) => line.trim() && !line.includes("npm warn"));
      expect(errorLines).toEqual([
        `✗ PostgreSQL at 127.0.0.1:${server.port} rejected the password for user "app" (DATABASE_URL).`,
      ]);
    } finally {
      await server.close();
    }
  });

  it("a malformed DATABASE_URL is named in the error", async () => {
    const result = await runDbCommand(["migrate"], { DATABASE_URL: "mysql://nope" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("✗ Configuration error: DATABASE_URL must be a postgresql:// URL");
    expect(result.stderr).not.toContain("    at ");
  });

  it.runIf(postgresAdminUrl())("a database that does not exist is explained", async () => {
    const url = new URL(postgresAdminUrl() as string);
    url.pathname = `/${uniqueDatabaseName()}`;
    await expect(assertDatabaseReachable({ kind: "postgres", url: url.toString() })).rejects.toThrow(
      /has no database "verdict_test_/,
    );
  });

  it("migrates and seeds an embedded database folder from the command line, and keeps the data", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "verdict-pglite-"));
    try {
      const env = { PGLITE_DATA_DIR: dataDir, SEED_ADMIN_PASSWORD: "admin-password-1" };
      const first = await runDbCommand(["seed"], env);
      expect(first.stderr).toBe("");
      expect(first.stdout).toMatch(/Migrations: applied \d+ \(\d{14}_init, /);
      expect(first.stdout).toContain(
        "Seed: created admin admin@verdict.local (password from SEED_ADMIN_PASSWORD)",
      );
      expect(first.stdout).toMatch(
        /Seed: created member member@verdict\.local with password [A-Za-z0-9]{20}/,
      );

      const second = await runDbCommand(["seed"], env);
      expect(second.stdout).toContain("Migrations: up to date");
      expect(second.stdout).toContain("Seed: demo data already present");

      const status = await runDbCommand(["status"], env);
      expect(status.status).toBe(0);
      expect(status.stdout).toContain("Pending: none");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    // Three CLI runs, each starting tsx, PGlite and the schema engine; the first also seeds the
    // results demo. Alone that is 45 s on a slow day here; beside the rest of the suite, more.
  }, 180_000);

  it.runIf(postgresAdminUrl())("migrates real PostgreSQL with the same migrations", async () => {
    const test = await createTestDatabase("postgres");
    try {
      const result = await runDbCommand(["status"], { DATABASE_URL: (test.target as { url: string }).url });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("Pending: none");
      expect(result.stdout).toContain("schema.prisma matches the migrations");
    } finally {
      await test.drop();
    }
  });
});
