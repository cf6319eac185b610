import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EnvError, envSchema, parseEnv } from "@/server/env";

const repoFile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const schemaKeys = Object.keys(envSchema.shape).sort();

/** Variables .env.example sets or shows commented out (`NAME=` or `# NAME=` at a line's start). */
function exampleKeys(text: string): Set<string> {
  return new Set([...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string));
}

/** Variables named in backticks in the first column of the README's Configuration table. */
function readmeConfigurationKeys(text: string): Set<string> {
  const section = text.split(/^## /m).find((part) => part.startsWith("Configuration\n")) ?? "";
  const keys = new Set<string>();
  for (const row of section.split("\n").filter((line) => line.startsWith("| `"))) {
    const firstCell = row.split("|")[1] ?? "";
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) keys.add(match[1] as string);
  }
  return keys;
}

function problemsOf(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe("parseEnv", () => {
  it.each([
    // The dispatcher's batches in flight, and the events each one claims.
    { key: "EVENTS_DISPATCH_CONCURRENCY", byDefault: 2, good: "4", bad: ["0", "9", "2.5", "many"] },
    { key: "EVENTS_DISPATCH_BATCH_SIZE", byDefault: 1000, good: "250", bad: ["0", "5001", "12.5", "lots"] },
    // Assignments above which a test's results read the rollups.
    { key: "RESULTS_ROLLUP_THRESHOLD", byDefault: 250_000, good: "0", bad: ["-1", "2.5", "many"] },
    // Parts one event-store results pass runs in at once, each on a connection of the pool.
    { key: "RESULTS_QUERY_PARALLELISM", byDefault: 2, good: "4", bad: ["0", "9", "1.5", "all"] },
  ] as const)("takes $key within its bounds, $byDefault by default", ({ key, byDefault, good, bad }) => {
    expect(parseEnv({})[key]).toBe(byDefault);
    expect(parseEnv({ [key]: good })[key]).toBe(Number(good));
    for (const value of bad) expect(problemsOf({ [key]: value }).join(" ")).toContain(key);
  });

  it("runs on the embedded default with no variables at all", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PGLITE_DATA_DIR).toBe(".data/pglite");
    expect(env.NODE_ENV).toBe("development");
    expect(env.POSTHOG_API_KEY).toBeUndefined();
  });

  it("treats empty values as unset, as .env files write them", () => {
    const env = parseEnv({ DATABASE_URL: "", SEED_ADMIN_EMAIL: "", AUTH_SECRET: "", POSTHOG_API_KEY: "  " });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.SEED_ADMIN_EMAIL).toBeUndefined();
    expect(env.AUTH_SECRET).toBeUndefined();
    expect(env.POSTHOG_API_KEY).toBeUndefined();
  });

  it("has requests take their caller's signal unless told to keep Node's way", () => {
    expect(parseEnv({}).REQUEST_SIGNAL).toBe("following");
    expect(parseEnv({ REQUEST_SIGNAL: "native" }).REQUEST_SIGNAL).toBe("native");
    expect(problemsOf({ REQUEST_SIGNAL: "weak" }).join(" ")).toContain("REQUEST_SIGNAL");
  });

  it("accepts postgres:// and postgresql:// URLs and coerces PORT", () => {
    expect(parseEnv({ DATABASE_URL: "postgres://u:p@db:5432/verdict" }).DATABASE_URL).toBe(
      "postgres://u:p@db:5432/verdict",
    );
    expect(parseEnv({ PORT: "4000" }).PORT).toBe(4000);
  });

  it("names every bad variable", () => {
    const problems = problemsOf({
      DATABASE_URL: "mysql://localhost/db",
      PORT: "99999",
      SEED_ADMIN_EMAIL: "not-an-email",
      SEED_ADMIN_PASSWORD: "short",
      AUTH_SECRET: "too-short",
      LOG_LEVEL: "loud",
    });
    const named = problems.map((problem) => problem.split(" ")[0]);
    expect(named).toEqual([
      "DATABASE_URL",
      "PORT",
      "AUTH_SECRET",
      "SEED_ADMIN_EMAIL",
      "SEED_ADMIN_PASSWORD",
      "LOG_LEVEL",
    ]);
    expect(problems[0]).toBe("DATABASE_URL must be a postgresql:// URL");
  });

  it("accepts each OAuth pair when both halves are set, and neither", () => {
    const env = parseEnv({
      GITHUB_ID: "Iv1.abc",
      GITHUB_SECRET: "gh-secret",
      GOOGLE_CLIENT_ID: "123.apps.googleusercontent.com",
      GOOGLE_CLIENT_SECRET: "g-secret",
    });
    expect(env.GITHUB_ID).toBe("Iv1.abc");
    expect(env.GOOGLE_CLIENT_SECRET).toBe("g-secret");
    const none = parseEnv({
      GITHUB_ID: "",
      GITHUB_SECRET: " ",
      GOOGLE_CLIENT_ID: "",
      GOOGLE_CLIENT_SECRET: "",
    });
    expect(none.GITHUB_ID).toBeUndefined();
    expect(none.GOOGLE_CLIENT_ID).toBeUndefined();
  });

  it("names the missing half of an OAuth pair", () => {
    expect(problemsOf({ GITHUB_ID: "Iv1.abc" })).toEqual([
      "GITHUB_SECRET is required when GITHUB_ID is set (GitHub sign-in)",
    ]);
    expect(problemsOf({ GITHUB_SECRET: "gh-secret", GITHUB_ID: "  " })).toEqual([
      "GITHUB_ID is required when GITHUB_SECRET is set (GitHub sign-in)",
    ]);
    expect(
      problemsOf({ GOOGLE_CLIENT_SECRET: "g-secret", GITHUB_ID: "Iv1.abc", GITHUB_SECRET: "s" }),
    ).toEqual(["GOOGLE_CLIENT_ID is required when GOOGLE_CLIENT_SECRET is set (Google sign-in)"]);
    expect(problemsOf({ GOOGLE_CLIENT_ID: "123.apps.googleusercontent.com" })).toEqual([
      "GOOGLE_CLIENT_SECRET is required when GOOGLE_CLIENT_ID is set (Google sign-in)",
    ]);
  });
});

describe("every variable is documented", () => {
  it("in .env.example", () => {
    const documented = exampleKeys(repoFile(".env.example"));
    expect(schemaKeys.filter((key) => !documented.has(key))).toEqual([]);
  });

  it("in the README's Configuration table", () => {
    const documented = readmeConfigurationKeys(repoFile("README.md"));
    // Guards the parser itself: a table it cannot read would make the check above vacuous.
    expect(documented.size).toBeGreaterThan(20);
    expect(schemaKeys.filter((key) => !documented.has(key))).toEqual([]);
  });

  it("and nothing documented is missing from the schema", () => {
    // The test-only and browser-test variables are read by the test tooling, not by env.ts.
    const toolingOnly = new Set(["TEST_DATABASE_URL"]);
    const documented = [
      ...exampleKeys(repoFile(".env.example")),
      ...readmeConfigurationKeys(repoFile("README.md")),
    ];
    expect(
      [...new Set(documented)].filter((key) => !schemaKeys.includes(key) && !toolingOnly.has(key)),
    ).toEqual([]);
  });
});

describe("public/robots.txt", () => {
  it("keeps crawlers out of the admin console and the APIs", () => {
    const rules = repoFile("public/robots.txt")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    expect(rules[0]).toBe("User-agent: *");
    expect(rules).toEqual(expect.arrayContaining(["Disallow: /admin", "Disallow: /api"]));
  });
});
