import { randomUUID } from "node:crypto";
import type { Account, NextAuthOptions, Profile, Session, User } from "next-auth";
import type { JWT } from "next-auth/jwt";
import type { CredentialsConfig } from "next-auth/providers/credentials";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { VISITOR_COOKIE } from "@/features/experiments/core/visitor";
import type { PrismaClient } from "@/generated/prisma/client";
import { OAuthSignInRefused } from "@/server/auth/oauth-users";
import { buildAuthOptions, type CookieReader } from "@/server/auth/options";
import { hashPassword } from "@/server/auth/password";
import { ROLE_RECHECK_MS, SessionUserGoneError } from "@/server/auth/role-refresh";
import { SignInRateLimitedError } from "@/server/auth/sign-in-limits";
import { parseEnv } from "@/server/env";
import { logger } from "@/server/logger";
import { DEMO_EXPERIMENT_SLUG, seedDatabase } from "@/server/seed";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";

const ADMIN = { email: "admin@verdict.local", password: "admin-password-1" };
const MEMBER = { email: "member@verdict.local", password: "member-password-1" };
const RAW_ENV = { NODE_ENV: "test", AUTH_SECRET: "integration-test-secret-".padEnd(48, "x") };
const ENV = parseEnv(RAW_ENV);
const RATE_LIMITED = "Too many sign-in attempts. Try again in 15 minutes.";

type Authorize = CredentialsConfig["authorize"];
type Callbacks = Required<NonNullable<NextAuthOptions["callbacks"]>>;

/** One next-auth configuration as the route handler would use it, on a test clock and database. */
class Harness {
  time = 1_700_000_000_000;
  readonly options: NextAuthOptions;

  constructor(db: () => PrismaClient, readCookie?: CookieReader) {
    this.options = buildAuthOptions({ env: ENV, db, now: () => this.time, readCookie });
  }

  private get callbacks(): Callbacks {
    return this.options.callbacks as Callbacks;
  }

  /** What next-auth calls with the posted form and the request (headers as a plain object). */
  async authorize(email: string, password: string, ip = "198.51.100.1"): Promise<User | null> {
    const provider = this.options.providers.find((candidate) => candidate.id === "credentials");
    const { authorize } = (provider as unknown as { options: { authorize: Authorize } }).options;
    return authorize(
      { email, password },
      { headers: { "x-forwarded-for": `${ip}, 10.0.0.1`, host: "localhost" }, method: "POST" },
    );
  }

  /** The credentials sign-in as next-auth runs it: authorize, signIn, then jwt with the user. */
  async signInWithPassword(email: string, password: string, ip?: string): Promise<JWT | null> {
    const user = await this.authorize(email, password, ip);
    if (!user) return null;
    const account: Account = { type: "credentials", provider: "credentials", providerAccountId: user.id };
    expect(await this.callbacks.signIn({ user, account })).toBe(true);
    return this.callbacks.jwt({
      token: { name: user.name, email: user.email, sub: user.id },
      user,
      account,
      trigger: "signIn",
    });
  }

  /** The OAuth callback as next-auth runs it without an adapter: `user` is the provider's profile. */
  async signInWithOAuth(identity: {
    provider?: string;
    providerAccountId: string;
    email?: string | null;
    verified?: boolean;
  }): Promise<JWT> {
    const provider = identity.provider ?? "github";
    const user: User = {
      id: identity.providerAccountId,
      name: "Octo Cat",
      email: identity.email ?? null,
      image: "https://avatars.example/octo.png",
    };
    const account: Account = {
      type: "oauth",
      provider,
      providerAccountId: identity.providerAccountId,
      access_token: "provider-access-token",
      token_type: "bearer",
    };
    const profile = {
      email: identity.email ?? undefined,
      email_verified: identity.verified ?? false,
    } as Profile;
    expect(await this.callbacks.signIn({ user, account, profile })).toBe(true);
    return this.callbacks.jwt({
      token: { name: user.name, email: user.email, picture: user.image, sub: user.id },
      user,
      account,
      profile,
      trigger: "signIn",
    });
  }

  /** Every later request: the token from the cookie goes through jwt again, then session. */
  async refresh(token: JWT): Promise<JWT> {
    return this.callbacks.jwt({ token } as Parameters<Callbacks["jwt"]>[0]);
  }

  async session(token: JWT): Promise<Session> {
    return (await this.callbacks.session({
      session: { user: { name: token.name, email: token.email }, expires: "" } as Session,
      token,
    } as Parameters<Callbacks["session"]>[0])) as Session;
  }
}

/** The rejection of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe.each(databaseKinds())("authentication on %s", (kind) => {
  let test: TestDatabase;
  let adminId: string;
  let memberId: string;
  const db = () => test.db;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    await seedDatabase(test.db, { adminPassword: ADMIN.password, memberPassword: MEMBER.password });
    adminId = (await test.db.user.findUniqueOrThrow({ where: { email: ADMIN.email } })).id;
    memberId = (await test.db.user.findUniqueOrThrow({ where: { email: MEMBER.email } })).id;
  });
  afterAll(async () => {
    await test?.drop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A user of one's own, so tests that change roles or passwords never disturb the others. */
  async function createUser(role: "ADMIN" | "MEMBER", password?: string) {
    const email = `user-${randomUUID().slice(0, 8)}@example.com`;
    return test.db.user.create({
      data: { email, role, passwordHash: password ? await hashPassword(password) : null },
      select: { id: true, email: true, role: true },
    });
  }

  describe("sessions", () => {
    it("are JWTs that expire after eight hours, with errors shown on Verdict's sign-in page", () => {
      const { options } = new Harness(db);
      expect(options.session).toEqual({ strategy: "jwt", maxAge: 8 * 60 * 60 });
      expect(options.pages).toEqual({ signIn: "/signin", error: "/signin" });
      expect(options.secret).toBe(ENV.AUTH_SECRET);
      expect(options.providers.map((provider) => provider.id)).toEqual(["credentials"]);
      const withOAuth = buildAuthOptions({
        env: parseEnv({ ...RAW_ENV, GITHUB_ID: "gh", GITHUB_SECRET: "gh-secret" }),
        db,
      });
      expect(withOAuth.providers.map((provider) => provider.id)).toEqual(["credentials", "github"]);
    });
  });

  describe("credentials", () => {
    it("signs in with the right password, with the user's role in the session", async () => {
      const auth = new Harness(db);
      expect(await auth.authorize(ADMIN.email, ADMIN.password)).toEqual({
        id: adminId,
        email: ADMIN.email,
        name: expect.anything(),
        role: "ADMIN",
      });
      const token = await auth.signInWithPassword("Member@Verdict.LOCAL", MEMBER.password);
      expect(token).toMatchObject({ sub: memberId, userId: memberId, role: "MEMBER", email: MEMBER.email });
      const session = await auth.session(token as JWT);
      expect(session.user).toMatchObject({ id: memberId, role: "MEMBER", email: MEMBER.email });
    });

    it("refuses a wrong password and an unknown email alike (null: next-auth's CredentialsSignin)", async () => {
      const auth = new Harness(db);
      expect(await auth.authorize(ADMIN.email, "not-the-password")).toBeNull();
      expect(await auth.authorize("nobody@verdict.local", ADMIN.password)).toBeNull();
      expect(await auth.authorize("not an email", ADMIN.password)).toBeNull();
      expect(await auth.authorize(ADMIN.email, "")).toBeNull();
    });

    it("never lets a passwordless (OAuth-only) user in with a password", async () => {
      const auth = new Harness(db);
      const user = await createUser("ADMIN");
      expect(await auth.authorize(user.email, "")).toBeNull();
      expect(await auth.authorize(user.email, "anything-at-all")).toBeNull();
    });

    it("refuses the 6th wrong attempt for one email with the rate-limit sentence; other emails still work", async () => {
      const auth = new Harness(db);
      const target = await createUser("MEMBER", "the-right-password");
      for (let i = 0; i < 5; i += 1) {
        expect(await auth.authorize(target.email, `guess-${i}`, `203.0.113.${i}`)).toBeNull();
      }
      const blocked = await rejection(auth.authorize(target.email, "guess-5", "203.0.113.99"));
      expect(blocked).toBeInstanceOf(SignInRateLimitedError);
      expect(blocked.message).toBe(RATE_LIMITED);
      // Blocked means blocked: the right password does not get through either, whatever the case.
      expect(
        (await rejection(auth.authorize(target.email.toUpperCase(), "the-right-password"))).message,
      ).toBe(RATE_LIMITED);
      // Another account from the same address is unaffected.
      expect(await auth.authorize(MEMBER.email, MEMBER.password, "203.0.113.99")).toMatchObject({
        id: memberId,
      });

      // The window ends after 15 minutes.
      auth.time += 15 * 60 * 1000;
      expect(await auth.authorize(target.email, "the-right-password")).toMatchObject({ id: target.id });
    });

    it("gives an email its budget back after a correct password", async () => {
      const auth = new Harness(db);
      const owner = await createUser("MEMBER", "owner-password");
      for (let round = 0; round < 3; round += 1) {
        for (let i = 0; i < 4; i += 1) expect(await auth.authorize(owner.email, `typo-${i}`)).toBeNull();
        expect(await auth.authorize(owner.email, "owner-password")).toMatchObject({ id: owner.id });
      }
      for (let i = 0; i < 5; i += 1) expect(await auth.authorize(owner.email, `typo-${i}`)).toBeNull();
      expect((await rejection(auth.authorize(owner.email, "owner-password"))).message).toBe(RATE_LIMITED);
    });

    it("allows one client address 30 attempts in 15 minutes, right or wrong, across emails", async () => {
      const auth = new Harness(db);
      const sprayer = "192.0.2.77";
      for (let i = 0; i < 29; i += 1) {
        expect(await auth.authorize(`spray-${i}@example.com`, "password123", sprayer)).toBeNull();
      }
      expect(await auth.authorize(MEMBER.email, MEMBER.password, sprayer)).toMatchObject({ id: memberId });
      // The 31st attempt from that address is refused, even with the right password.
      const blocked = await rejection(auth.authorize(ADMIN.email, ADMIN.password, sprayer));
      expect(blocked).toBeInstanceOf(SignInRateLimitedError);
      expect(blocked.message).toBe(RATE_LIMITED);
      // Other addresses are not affected, and the address is let in again after the window.
      expect(await auth.authorize(ADMIN.email, ADMIN.password, "192.0.2.78")).toMatchObject({ id: adminId });
      auth.time += 15 * 60 * 1000;
      expect(await auth.authorize(ADMIN.email, ADMIN.password, sprayer)).toMatchObject({ id: adminId });
    });

    it("reports a database failure as SignInUnavailable, never with the error's own text", async () => {
      const auth = new Harness(() => {
        throw new Error('connect ECONNREFUSED 10.1.2.3:5432 password "hunter2"');
      });
      vi.spyOn(logger, "error").mockImplementation(() => undefined);
      const error = await rejection(auth.authorize(ADMIN.email, ADMIN.password));
      expect(error.message).toBe("SignInUnavailable");
    });
  });

  describe("OAuth", () => {
    it("creates a new member for a new verified identity and links the account, without its tokens", async () => {
      const auth = new Harness(db);
      const email = `octo-${randomUUID().slice(0, 8)}@example.com`;
      const token = await auth.signInWithOAuth({ providerAccountId: "gh-1001", email, verified: true });

      const user = await test.db.user.findUniqueOrThrow({ where: { email }, include: { accounts: true } });
      expect(user).toMatchObject({ role: "MEMBER", name: "Octo Cat", passwordHash: null });
      expect(user.emailVerified).toBeInstanceOf(Date);
      expect(user.accounts).toHaveLength(1);
      expect(user.accounts[0]).toMatchObject({
        provider: "github",
        providerAccountId: "gh-1001",
        type: "oauth",
        access_token: null,
        refresh_token: null,
        id_token: null,
      });
      // The session carries Verdict's user id, not GitHub's.
      expect(token).toMatchObject({ sub: user.id, userId: user.id, role: "MEMBER", email });
      expect((await auth.session(token)).user).toMatchObject({ id: user.id, role: "MEMBER" });
    });

    it("finds the same user on the next sign-in, even when the provider's address has changed", async () => {
      const auth = new Harness(db);
      const email = `returning-${randomUUID().slice(0, 8)}@example.com`;
      const first = await auth.signInWithOAuth({ providerAccountId: "gh-2002", email, verified: true });
      const usersBefore = await test.db.user.count();
      const second = await auth.signInWithOAuth({ providerAccountId: "gh-2002", email, verified: true });
      const moved = await auth.signInWithOAuth({
        providerAccountId: "gh-2002",
        email: "someone-else@example.com",
        verified: false,
      });
      const hidden = await auth.signInWithOAuth({ providerAccountId: "gh-2002", email: null });
      for (const token of [second, moved, hidden]) {
        expect(token.userId).toBe(first.userId);
        // The address in the session is the Verdict user's, not the provider's of the day.
        expect(token.email).toBe(email);
      }
      expect(await test.db.user.count()).toBe(usersBefore);
      expect(await test.db.account.count({ where: { providerAccountId: "gh-2002" } })).toBe(1);
    });

    it("links a verified address to the existing user with that address, who keeps the ADMIN role", async () => {
      const auth = new Harness(db);
      const token = await auth.signInWithOAuth({
        provider: "google",
        providerAccountId: "google-sub-3003",
        email: "Admin@Verdict.Local",
        verified: true,
      });
      expect(token).toMatchObject({ sub: adminId, userId: adminId, role: "ADMIN", email: ADMIN.email });
      const admin = await test.db.user.findUniqueOrThrow({
        where: { id: adminId },
        include: { accounts: true },
      });
      expect(admin.role).toBe("ADMIN");
      expect(admin.accounts.map((account) => [account.provider, account.providerAccountId])).toEqual([
        ["google", "google-sub-3003"],
      ]);
      // The password still works too.
      expect(await auth.authorize(ADMIN.email, ADMIN.password, "192.0.2.200")).toMatchObject({ id: adminId });
    });

    it("refuses an unverified address that matches an existing user (OAuthEmailUnverified)", async () => {
      const auth = new Harness(db);
      const refused = await rejection(
        auth.signInWithOAuth({ providerAccountId: "gh-evil-4004", email: MEMBER.email, verified: false }),
      );
      expect(refused).toBeInstanceOf(OAuthSignInRefused);
      expect((refused as OAuthSignInRefused).code).toBe("OAuthEmailUnverified");
      // next-auth puts the message into ?error=: it must be the code the page knows.
      expect(refused.message).toBe("OAuthEmailUnverified");
      expect(await test.db.account.count({ where: { userId: memberId } })).toBe(0);
      expect(await test.db.account.count({ where: { providerAccountId: "gh-evil-4004" } })).toBe(0);
    });

    it("refuses an unverified address of nobody too, and an identity without an address", async () => {
      const auth = new Harness(db);
      const email = `unverified-${randomUUID().slice(0, 8)}@example.com`;
      const unverified = await rejection(
        auth.signInWithOAuth({ providerAccountId: "gh-5005", email, verified: false }),
      );
      expect((unverified as OAuthSignInRefused).code).toBe("OAuthEmailUnverified");
      expect(await test.db.user.count({ where: { email } })).toBe(0);

      const noEmail = await rejection(auth.signInWithOAuth({ providerAccountId: "gh-6006", email: null }));
      expect(noEmail).toBeInstanceOf(OAuthSignInRefused);
      expect((noEmail as OAuthSignInRefused).code).toBe("OAuthNoEmail");
      expect(noEmail.message).toBe("OAuthNoEmail");
      const blank = await rejection(
        auth.signInWithOAuth({ providerAccountId: "gh-6007", email: "  ", verified: true }),
      );
      expect((blank as OAuthSignInRefused).code).toBe("OAuthNoEmail");
      expect(
        await test.db.account.count({ where: { providerAccountId: { in: ["gh-6006", "gh-6007"] } } }),
      ).toBe(0);
    });

    it("ends simultaneous first sign-ins of one identity with one user and one account", async () => {
      const auth = new Harness(db);
      const email = `race-${randomUUID().slice(0, 8)}@example.com`;
      const tokens = await Promise.all(
        Array.from({ length: 6 }, () =>
          auth.signInWithOAuth({ providerAccountId: "gh-7007", email, verified: true }),
        ),
      );
      const ids = new Set(tokens.map((token) => token.userId));
      expect(ids.size).toBe(1);
      expect(await test.db.user.count({ where: { email } })).toBe(1);
      expect(await test.db.account.count({ where: { providerAccountId: "gh-7007" } })).toBe(1);
    });

    it("reports an unexpected failure as OAuthCreateAccount, never with the error's own text", async () => {
      const auth = new Harness(() => {
        throw new Error("relation does not exist: secret detail");
      });
      vi.spyOn(logger, "error").mockImplementation(() => undefined);
      const error = await rejection(
        auth.signInWithOAuth({ providerAccountId: "gh-8008", email: "x@example.com", verified: true }),
      );
      expect(error.message).toBe("OAuthCreateAccount");
    });
  });

  describe("role re-check through the jwt callback", () => {
    it("applies a demotion within five minutes, and signs a deleted user out", async () => {
      const auth = new Harness(db);
      const user = await createUser("ADMIN", "soon-a-member");
      const token = (await auth.signInWithPassword(user.email, "soon-a-member")) as JWT;
      expect(token).toMatchObject({ userId: user.id, role: "ADMIN", roleCheckedAt: auth.time });

      await test.db.user.update({ where: { id: user.id }, data: { role: "MEMBER" } });
      auth.time += ROLE_RECHECK_MS - 1;
      expect((await auth.refresh(token)).role).toBe("ADMIN");
      auth.time += 1;
      const demoted = await auth.refresh(token);
      expect(demoted).toMatchObject({ userId: user.id, role: "MEMBER", roleCheckedAt: auth.time });
      expect((await auth.session(demoted)).user.role).toBe("MEMBER");

      await test.db.user.delete({ where: { id: user.id } });
      auth.time += ROLE_RECHECK_MS;
      expect(await rejection(auth.refresh(demoted))).toBeInstanceOf(SessionUserGoneError);
    });

    it("re-checks OAuth sessions by the Verdict user id", async () => {
      const auth = new Harness(db);
      const email = `promoted-${randomUUID().slice(0, 8)}@example.com`;
      const token = await auth.signInWithOAuth({ providerAccountId: "gh-9009", email, verified: true });
      expect(token.role).toBe("MEMBER");
      await test.db.user.update({ where: { email }, data: { role: "ADMIN" } });
      auth.time += ROLE_RECHECK_MS;
      expect((await auth.refresh(token)).role).toBe("ADMIN");
    });
  });

  describe("visitor carry-over at sign-in", () => {
    const visitorId = () => randomUUID();

    async function assignVisitor(visitor: string, variant = "treatment") {
      await test.db.experimentVariant.create({
        data: {
          experimentSlug: DEMO_EXPERIMENT_SLUG,
          variant,
          visitorId: visitor,
          assignmentType: "DETERMINISTIC",
        },
      });
    }

    function assignmentsOf(userId: string) {
      return test.db.experimentVariant.findMany({
        where: { userId },
        select: { experimentSlug: true, variant: true, origin: true, phase: true, metadata: true },
      });
    }

    it("moves the visitor's assignments in the cookie to the user who signs in with a password", async () => {
      const visitor = visitorId();
      await assignVisitor(visitor, "treatment");
      const asked: string[] = [];
      const auth = new Harness(db, (name) => {
        asked.push(name);
        return name === VISITOR_COOKIE ? visitor : undefined;
      });
      const user = await createUser("MEMBER", "carry-me-over");
      const token = await auth.signInWithPassword(user.email, "carry-me-over");
      expect(token?.userId).toBe(user.id);
      expect(asked).toEqual([VISITOR_COOKIE]);
      expect(await assignmentsOf(user.id)).toEqual([
        {
          experimentSlug: DEMO_EXPERIMENT_SLUG,
          variant: "treatment",
          origin: "VISITOR_CARRYOVER",
          phase: 1,
          metadata: { carriedFromVisitor: visitor },
        },
      ]);
      // Signing in again copies nothing twice; the visitor keeps its own row.
      await auth.signInWithPassword(user.email, "carry-me-over");
      expect(await assignmentsOf(user.id)).toHaveLength(1);
      expect(await test.db.experimentVariant.count({ where: { visitorId: visitor } })).toBe(1);
    });

    it("moves them to the Verdict user on OAuth sign-in, never to the provider's id", async () => {
      const visitor = visitorId();
      await assignVisitor(visitor, "control");
      const auth = new Harness(db, async () => visitor);
      const email = `oauth-visitor-${randomUUID().slice(0, 8)}@example.com`;
      const token = await auth.signInWithOAuth({ providerAccountId: "gh-10010", email, verified: true });
      expect(await assignmentsOf(token.userId as string)).toMatchObject([
        { experimentSlug: DEMO_EXPERIMENT_SLUG, variant: "control", origin: "VISITOR_CARRYOVER" },
      ]);
      expect(await test.db.experimentVariant.count({ where: { userId: "gh-10010" } })).toBe(0);
    });

    it("keeps an assignment the user already has", async () => {
      const user = await createUser("MEMBER", "already-assigned");
      await test.db.experimentVariant.create({
        data: {
          experimentSlug: DEMO_EXPERIMENT_SLUG,
          variant: "control",
          userId: user.id,
          assignmentType: "DETERMINISTIC",
        },
      });
      const visitor = visitorId();
      await assignVisitor(visitor, "treatment");
      await new Harness(db, () => visitor).signInWithPassword(user.email, "already-assigned");
      expect(await assignmentsOf(user.id)).toMatchObject([{ variant: "control", origin: "ASSIGNED" }]);
    });

    it("ignores a missing or malformed cookie", async () => {
      const user = await createUser("MEMBER", "no-cookie-here");
      const visitor = visitorId();
      await assignVisitor(visitor);
      for (const value of [undefined, null, "", `${visitor}x`, visitor.toUpperCase(), "' OR 1=1 --"]) {
        const token = await new Harness(db, () => value).signInWithPassword(user.email, "no-cookie-here");
        expect(token?.userId).toBe(user.id);
      }
      expect(await assignmentsOf(user.id)).toEqual([]);
    });

    it("logs a failure to read the cookie and signs in all the same", async () => {
      const errors = vi.spyOn(logger, "error").mockImplementation(() => undefined);
      const auth = new Harness(db, () => {
        throw new Error("cookies() was called outside a request scope");
      });
      const token = await auth.signInWithPassword(MEMBER.email, MEMBER.password, "192.0.2.150");
      expect(token).toMatchObject({ userId: memberId, role: "MEMBER" });
      expect(errors).toHaveBeenCalledWith(
        "visitor assignments could not be carried over at sign-in",
        expect.objectContaining({
          userId: memberId,
          error: expect.stringContaining("outside a request scope"),
        }),
      );
    });

    // Last in this file: it breaks the assignments table for a moment (a real database error).
    it("logs a database failure while carrying over and signs in all the same", async () => {
      const visitor = visitorId();
      await assignVisitor(visitor);
      const user = await createUser("MEMBER", "carry-fails");
      const errors = vi.spyOn(logger, "error").mockImplementation(() => undefined);
      await test.db.$executeRawUnsafe(`ALTER TABLE "ExperimentVariant" RENAME TO "ExperimentVariant_away"`);
      let token: JWT | null;
      try {
        token = await new Harness(db, () => visitor).signInWithPassword(
          user.email,
          "carry-fails",
          "192.0.2.151",
        );
      } finally {
        await test.db.$executeRawUnsafe(`ALTER TABLE "ExperimentVariant_away" RENAME TO "ExperimentVariant"`);
      }
      expect(token).toMatchObject({ userId: user.id, role: "MEMBER" });
      expect(errors).toHaveBeenCalledWith(
        "visitor assignments could not be carried over at sign-in",
        expect.objectContaining({ userId: user.id }),
      );
      expect(await assignmentsOf(user.id)).toEqual([]);
    });
  });
});
