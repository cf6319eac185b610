import { clientIp, createRateLimiter, type RateLimiter } from "../rate-limit";

/**
 * Guessing protection for email-and-password sign-in. Two budgets, shared by every instance
 * through Redis when REDIS_URL is set, in this process's memory otherwise (see rate-limit.ts):
 *
 * - per email: failed passwords. Stops slow guessing at one account from many addresses.
 * - per client IP: every attempt, right or wrong. Stops one address spraying many accounts.
 *
 * The email budget is spent before the password is checked, not after a failure: otherwise a
 * burst of parallel requests would all pass the check while their (slow, scrypt) verifications
 * were still running. A correct password then gives the budget back.
 */
export type Budget = { limit: number; windowMs: number };

export type SignInLimitsOptions = {
  perEmail?: Budget;
  perIp?: Budget;
  /** The clock of the in-memory budgets (tests move it). */
  now?: () => number;
};

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
export const DEFAULT_PER_EMAIL: Budget = { limit: 5, windowMs: FIFTEEN_MINUTES_MS };
export const DEFAULT_PER_IP: Budget = { limit: 30, windowMs: FIFTEEN_MINUTES_MS };

/**
 * The sentence people read on the sign-in page. next-auth hands a thrown error's message to the
 * page as `?error=`, and the form shows it only when it matches this shape (never arbitrary text).
 */
export function signInRateLimitMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many sign-in attempts. Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
}

export class SignInRateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(signInRateLimitMessage(retryAfterSeconds));
    this.name = "SignInRateLimitedError";
  }
}

/** Same address, same budget: case and surrounding spaces must not buy extra guesses. */
function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export class SignInLimits {
  private readonly perEmail: RateLimiter;
  private readonly perIp: RateLimiter;

  constructor(options: SignInLimitsOptions = {}) {
    const now = options.now ?? Date.now;
    this.perEmail = createRateLimiter({
      name: "signin:email",
      ...(options.perEmail ?? DEFAULT_PER_EMAIL),
      now,
    });
    this.perIp = createRateLimiter({ name: "signin:ip", ...(options.perIp ?? DEFAULT_PER_IP), now });
  }

  /**
   * Runs `check` (the password verification) unless a budget is spent; throws
   * {@link SignInRateLimitedError} then. `check` returns null for a wrong email or password:
   * unknown emails spend the budget exactly like known ones, so the limit reveals nothing.
   */
  async attempt<T>(email: string, ip: string, check: () => Promise<T | null>): Promise<T | null> {
    const byIp = await this.perIp.consume(ip);
    if (!byIp.allowed) throw new SignInRateLimitedError(byIp.retryAfterSeconds);
    const key = emailKey(email);
    const byEmail = await this.perEmail.consume(key);
    if (!byEmail.allowed) throw new SignInRateLimitedError(byEmail.retryAfterSeconds);
    const result = await check();
    if (result !== null) await this.perEmail.reset(key);
    return result;
  }
}

/**
 * The client address from next-auth's request, whose headers are a plain object (string values
 * from the App Router, string arrays possible from the Pages Router).
 */
export function requestIp(headers: Record<string, unknown> | undefined): string {
  const copy = new Headers();
  for (const [name, value] of Object.entries(headers ?? {})) {
    const text = Array.isArray(value) ? value.join(", ") : value;
    if (typeof text !== "string") continue;
    try {
      copy.append(name, text);
    } catch {
      // HTTP/2 pseudo-headers (":authority") are not valid names here and carry no address.
    }
  }
  return clientIp(copy);
}
