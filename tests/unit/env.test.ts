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
