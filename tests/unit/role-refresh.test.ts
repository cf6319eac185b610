import type { JWT } from "next-auth/jwt";
import { describe, expect, it } from "vitest";
import type { Role } from "@/server/auth/options";
import { createRoleRefresher, ROLE_RECHECK_MS, SessionUserGoneError } from "@/server/auth/role-refresh";

const START = 1_700_000_000_000;
const ALICE = "11111111-1111-4111-8111-111111111111";
const BOB = "22222222-2222-4222-8222-222222222222";

/** A database stand-in for the role column only: what the lookup would read, and how often it did. */
function roles(initial: Record<string, Role | null>) {
  const table = new Map(Object.entries(initial));
  const reads: string[] = [];
  let failure: Error | null = null;
  return {
    reads,
    set: (userId: string, role: Role | null) => table.set(userId, role),
    fail: (error: Error | null) => {
      failure = error;
    },
    lookup: async (userId: string) => {
      reads.push(userId);
      if (failure) throw failure;
      return table.get(userId) ?? null;
    },
  };
}

function setup(initial: Record<string, Role | null>) {
  let now = START;
  const db = roles(initial);
  const errors: unknown[] = [];
  const refresh = createRoleRefresher({
    lookup: db.lookup,
    now: () => now,
    onLookupError: (error) => errors.push(error),
  });
  return {
    db,
    errors,
    refresh,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const tokenFor = (userId: string, role: Role, roleCheckedAt = START): JWT => ({
  sub: userId,
  userId,
  role,
  roleCheckedAt,
});

describe("createRoleRefresher", () => {
  it("re-checks every five minutes by default, not on every request", async () => {
    expect(ROLE_RECHECK_MS).toBe(5 * 60 * 1000);
    const t = setup({ [ALICE]: "ADMIN" });
    const token = tokenFor(ALICE, "ADMIN");

    t.advance(ROLE_RECHECK_MS - 1);
    expect(await t.refresh(token)).toBe(token);
    expect(t.db.reads).toEqual([]);

    t.advance(1);
    const refreshed = await t.refresh(token);
    expect(t.db.reads).toEqual([ALICE]);
    expect(refreshed).toEqual({ ...token, role: "ADMIN", roleCheckedAt: t.now() });

    // The refreshed token is fresh again for another interval.
    t.advance(ROLE_RECHECK_MS - 1);
    expect(await t.refresh(refreshed)).toBe(refreshed);
    expect(t.db.reads).toHaveLength(1);
  });

  it("applies a demotion in the database at the next check", async () => {
    const t = setup({ [ALICE]: "ADMIN" });
    const token = tokenFor(ALICE, "ADMIN");
    t.db.set(ALICE, "MEMBER");
    t.advance(60_000);
    expect((await t.refresh(token)).role).toBe("ADMIN");

    t.advance(ROLE_RECHECK_MS);
    const refreshed = await t.refresh(token);
    expect(refreshed.role).toBe("MEMBER");
    expect(refreshed.roleCheckedAt).toBe(t.now());
    expect(refreshed.userId).toBe(ALICE);
  });

  it("throws SessionUserGoneError once the user is deleted", async () => {
    const t = setup({ [ALICE]: "ADMIN" });
    t.db.set(ALICE, null);
    t.advance(ROLE_RECHECK_MS);
    await expect(t.refresh(tokenFor(ALICE, "ADMIN"))).rejects.toBeInstanceOf(SessionUserGoneError);
  });

  it("keeps the token as it is when the database fails, reports it, and tries again next time", async () => {
    const t = setup({ [ALICE]: "MEMBER" });
    const token = tokenFor(ALICE, "ADMIN");
    t.advance(ROLE_RECHECK_MS);
    t.db.fail(new Error("connection refused"));
    expect(await t.refresh(token)).toBe(token);
    expect(t.errors).toHaveLength(1);
    expect(String(t.errors[0])).toContain("connection refused");

    t.db.fail(null);
    t.advance(1_000);
    expect((await t.refresh(token)).role).toBe("MEMBER");
    expect(t.db.reads).toEqual([ALICE, ALICE]);
  });

  it("remembers a read per user, so stale cookies that cannot be rewritten cost one query per interval", async () => {
    const t = setup({ [ALICE]: "ADMIN", [BOB]: "MEMBER" });
    const alice = tokenFor(ALICE, "ADMIN");
    const bob = tokenFor(BOB, "MEMBER");
    t.advance(ROLE_RECHECK_MS);

    // The same stale token presented on three requests (a page-only visitor): one read.
    for (let i = 0; i < 3; i += 1) expect((await t.refresh(alice)).role).toBe("ADMIN");
    expect(t.db.reads).toEqual([ALICE]);

    // Another user is read separately, and never gets the first user's role.
    expect((await t.refresh(bob)).role).toBe("MEMBER");
    expect(t.db.reads).toEqual([ALICE, BOB]);

    // Alice is demoted: her remembered read still stands until its interval ends, then is redone.
    t.db.set(ALICE, "MEMBER");
    t.advance(ROLE_RECHECK_MS - 1);
    expect((await t.refresh(alice)).role).toBe("ADMIN");
    expect(t.db.reads).toEqual([ALICE, BOB]);
    t.advance(1);
    expect((await t.refresh(alice)).role).toBe("MEMBER");
    expect(t.db.reads).toEqual([ALICE, BOB, ALICE]);
  });

  it("checks a token that never recorded a check, or whose check lies in the future", async () => {
    const t = setup({ [ALICE]: "MEMBER" });
    const legacy: JWT = { sub: ALICE, userId: ALICE, role: "ADMIN" };
    expect((await t.refresh(legacy)).role).toBe("MEMBER");

    const other = setup({ [ALICE]: "MEMBER" });
    const ahead = tokenFor(ALICE, "ADMIN", START + 60 * 60 * 1000);
    expect((await other.refresh(ahead)).role).toBe("MEMBER");
  });

  it("leaves a token without a Verdict user alone", async () => {
    const t = setup({});
    const anonymous: JWT = { name: "someone" };
    t.advance(ROLE_RECHECK_MS * 10);
    expect(await t.refresh(anonymous)).toBe(anonymous);
    expect(t.db.reads).toEqual([]);
  });
});
