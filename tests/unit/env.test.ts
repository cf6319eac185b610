import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@/server/env";

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
});
