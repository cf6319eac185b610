import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  requestIp,
  SignInLimits,
  SignInRateLimitedError,
  signInRateLimitMessage,
} from "@/server/auth/sign-in-limits";
import { resetEnvCache } from "@/server/env";
import { describeSignInError } from "../../app/signin/sign-in-form";

// These budgets run on a clock the tests move, which only the in-memory store follows: make sure
// a REDIS_URL in the developer's shell does not switch them to Redis.
beforeEach(() => {
  vi.stubEnv("REDIS_URL", "");
  resetEnvCache();
});
afterEach(() => {
  vi.unstubAllEnvs();
  resetEnvCache();
});

const MINUTE = 60_000;
const wrong = async () => null;
const right = async () => ({ id: "user-1" });

/** The error an attempt throws, or null when it was let through. */
async function refusal(attempt: Promise<unknown>): Promise<SignInRateLimitedError | null> {
  try {
    await attempt;
    return null;
  } catch (error) {
    if (error instanceof SignInRateLimitedError) return error;
    throw error;
  }
}

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("SignInLimits per email", () => {
  it("blocks the 6th try after 5 wrong passwords, even from another address and even if right", async () => {
    const time = clock();
    const limits = new SignInLimits({ now: time.now });
    for (let i = 0; i < 5; i += 1) {
      expect(await limits.attempt("admin@verdict.local", `198.51.100.${i}`, wrong)).toBeNull();
    }
    const error = await refusal(limits.attempt("admin@verdict.local", "203.0.113.7", right));
    expect(error?.retryAfterSeconds).toBe(15 * 60);
    expect(error?.message).toBe("Too many sign-in attempts. Try again in 15 minutes.");
  });

  it("does not check the password at all once blocked", async () => {
    const limits = new SignInLimits({ now: clock().now });
    for (let i = 0; i < 5; i += 1) await limits.attempt("a@example.com", "192.0.2.1", wrong);
    let checked = false;
    const check = async () => {
      checked = true;
      return null;
    };
    expect(await refusal(limits.attempt("a@example.com", "192.0.2.1", check))).not.toBeNull();
    expect(checked).toBe(false);
  });

  it("treats case and surrounding spaces as the same email", async () => {
    const limits = new SignInLimits({ now: clock().now });
    const spellings = [
      "Admin@Verdict.local",
      " admin@verdict.local",
      "ADMIN@VERDICT.LOCAL",
      "admin@verdict.local ",
    ];
    for (const email of [...spellings, "admin@verdict.local"])
      await limits.attempt(email, "192.0.2.1", wrong);
    expect(await refusal(limits.attempt("admin@VERDICT.local", "192.0.2.2", wrong))).not.toBeNull();
  });

  it("reports the minutes left, rounded up, and lets the email in again when the window ends", async () => {
    const time = clock();
    const limits = new SignInLimits({ now: time.now });
    for (let i = 0; i < 5; i += 1) await limits.attempt("m@example.com", "192.0.2.1", wrong);
    time.advance(10 * MINUTE + 1_000);
    const error = await refusal(limits.attempt("m@example.com", "192.0.2.1", wrong));
    expect(error?.retryAfterSeconds).toBe(4 * 60 + 59);
    expect(error?.message).toBe("Too many sign-in attempts. Try again in 5 minutes.");
    time.advance(4 * MINUTE + 59_000);
    expect(await refusal(limits.attempt("m@example.com", "192.0.2.1", right))).toBeNull();
  });

  it("gives the budget back on a correct password, so a typo-prone owner is not locked out", async () => {
    const limits = new SignInLimits({ now: clock().now });
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 4; i += 1) await limits.attempt("owner@example.com", "192.0.2.1", wrong);
      expect(await limits.attempt("owner@example.com", "192.0.2.1", right)).toEqual({ id: "user-1" });
    }
  });

  it("counts unknown emails exactly like known ones (the limit reveals nothing)", async () => {
    const limits = new SignInLimits({ now: clock().now });
    for (let i = 0; i < 5; i += 1) await limits.attempt("nobody@example.com", "192.0.2.1", wrong);
    expect(await refusal(limits.attempt("nobody@example.com", "192.0.2.1", wrong))).not.toBeNull();
  });
});

describe("SignInLimits per client address", () => {
  it("allows 30 attempts across emails, right or wrong, then blocks that address only", async () => {
    const time = clock();
    const limits = new SignInLimits({ now: time.now });
    for (let i = 0; i < 30; i += 1) {
      const check = i % 2 === 0 ? wrong : right;
      expect(await refusal(limits.attempt(`user${i}@example.com`, "203.0.113.50", check))).toBeNull();
    }
    const blocked = await refusal(limits.attempt("fresh@example.com", "203.0.113.50", right));
    expect(blocked?.message).toBe("Too many sign-in attempts. Try again in 15 minutes.");
    expect(await refusal(limits.attempt("fresh@example.com", "203.0.113.51", right))).toBeNull();
    time.advance(15 * MINUTE);
    expect(await refusal(limits.attempt("fresh@example.com", "203.0.113.50", right))).toBeNull();
  });

  it("does not spend an email's budget on attempts the address limit already refused", async () => {
    const limits = new SignInLimits({
      now: clock().now,
      perIp: { limit: 1, windowMs: 15 * MINUTE },
    });
    await limits.attempt("spray@example.com", "203.0.113.9", wrong);
    for (let i = 0; i < 10; i += 1) await refusal(limits.attempt("victim@example.com", "203.0.113.9", wrong));
    expect(await limits.attempt("victim@example.com", "192.0.2.1", right)).toEqual({ id: "user-1" });
  });
});

describe("sign-in messages", () => {
  it("says minutes, singular for one", () => {
    expect(signInRateLimitMessage(1)).toBe("Too many sign-in attempts. Try again in 1 minute.");
    expect(signInRateLimitMessage(61)).toBe("Too many sign-in attempts. Try again in 2 minutes.");
  });

  it("are shown by the sign-in form verbatim; other text in ?error= is not", () => {
    expect(describeSignInError(signInRateLimitMessage(900))).toBe(signInRateLimitMessage(900));
    expect(describeSignInError(signInRateLimitMessage(30))).toBe(signInRateLimitMessage(30));
    expect(describeSignInError("CredentialsSignin")).toBe("Wrong email or password.");
    expect(describeSignInError("Call 555-0100 to unlock your account")).toBe("Sign-in failed. Try again.");
    expect(describeSignInError(null)).toBeNull();
  });
});

describe("requestIp", () => {
  it("reads next-auth's plain-object headers, string or array", () => {
    expect(requestIp({ "x-forwarded-for": "203.0.113.9, 10.0.0.1", host: "localhost" })).toBe("203.0.113.9");
    expect(requestIp({ "x-forwarded-for": ["198.51.100.1", "10.0.0.2"] })).toBe("198.51.100.1");
    expect(requestIp({ ":authority": "localhost", "x-real-ip": "192.0.2.4" })).toBe("192.0.2.4");
    expect(requestIp(undefined)).toBe("unknown");
  });
});
