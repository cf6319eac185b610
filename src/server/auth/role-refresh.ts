import type { JWT } from "next-auth/jwt";
import type { Role } from "./options";

/**
 * Keeps the role in a session token close to the database's. A token lives up to 8 hours; without
 * this, an admin who is demoted (or removed) would keep admin rights until it expired.
 *
 * The token remembers when its role was last read (`roleCheckedAt`), so most requests do nothing.
 * Server components cannot rewrite the session cookie, though, so a page-only visitor keeps
 * presenting an old `roleCheckedAt`; a small per-process memory of recent reads keeps that to one
 * query per user per interval instead of one per request.
 */
export const ROLE_RECHECK_MS = 5 * 60 * 1000;

/** Bounds memory; clearing everything now and then only costs a few extra queries. */
const MAX_REMEMBERED = 10_000;

export class SessionUserGoneError extends Error {
  constructor() {
    super("The signed-in user no longer exists");
    this.name = "SessionUserGoneError";
  }
}

export type RoleRefresherOptions = {
  /** The user's role now, or null when the user is gone. */
  lookup: (userId: string) => Promise<Role | null>;
  now?: () => number;
  intervalMs?: number;
  onLookupError?: (error: unknown) => void;
};

export type RoleRefresher = (token: JWT) => Promise<JWT>;

/**
 * Returns the token with a current role. Throws {@link SessionUserGoneError} for a deleted user:
 * next-auth then treats the session as invalid (signed out) and clears the cookie where it can.
 */
export function createRoleRefresher(options: RoleRefresherOptions): RoleRefresher {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? ROLE_RECHECK_MS;
  const recent = new Map<string, { role: Role | null; at: number }>();

  return async (token) => {
    const userId = token.userId;
    if (!userId) return token;
    const time = now();
    // A check "in the future" (another instance's clock ahead of this one) counts as stale.
    const age = typeof token.roleCheckedAt === "number" ? time - token.roleCheckedAt : Number.NaN;
    if (age >= 0 && age < intervalMs) return token;

    let read = recent.get(userId);
    if (!read || time - read.at >= intervalMs) {
      try {
        read = { role: await options.lookup(userId), at: time };
      } catch (error) {
        // A database hiccup must not sign everyone out; keep the role and try on the next request.
        options.onLookupError?.(error);
        return token;
      }
      if (recent.size >= MAX_REMEMBERED) recent.clear();
      recent.set(userId, read);
    }
    if (read.role === null) throw new SessionUserGoneError();
    return { ...token, role: read.role, roleCheckedAt: read.at };
  };
}
