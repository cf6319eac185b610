import { cookies } from "next/headers";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { isVisitorId, VISITOR_COOKIE } from "@/features/experiments/core/visitor";
import { carryOverVisitorAssignments } from "@/features/experiments/server/carry-over";
import type { PrismaClient } from "@/generated/prisma/client";
import { getDb } from "../db/client";
import { type Env, getEnv } from "../env";
import { logger } from "../logger";
import { identityFromSignIn, oauthProviders } from "./oauth-providers";
import { currentRole, findUserByAccount, linkOAuthUser, OAuthSignInRefused } from "./oauth-users";
import { generatePassword, hashPassword, verifyPassword } from "./password";
import { createRoleRefresher } from "./role-refresh";
import { resolveAuthSecret } from "./secret";
import { requestIp, SignInLimits, SignInRateLimitedError } from "./sign-in-limits";

export type Role = "ADMIN" | "MEMBER";

const credentialsSchema = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
});

/** Sessions expire after a working day of inactivity. */
const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

/**
 * Error codes the sign-in page knows (next-auth passes a thrown message on as `?error=`). Never
 * pass an unexpected error's own message: it would put database details into a URL.
 */
const SIGN_IN_UNAVAILABLE = "SignInUnavailable";
const OAUTH_CREATE_ACCOUNT = "OAuthCreateAccount";

// Unknown emails are checked against this hash too, so the response time does not tell an
// attacker which addresses have accounts.
let decoyHash: Promise<string> | undefined;
function decoy(): Promise<string> {
  decoyHash ??= hashPassword(generatePassword());
  return decoyHash;
}

/** Reads one cookie of the request being handled (`cookies()` from next/headers in the app). */
export type CookieReader = (name: string) => string | null | undefined | Promise<string | null | undefined>;

export type AuthDependencies = {
  env: Env;
  /** A getter, so building the options never opens a database by itself. */
  db: () => PrismaClient;
  limits?: SignInLimits;
  now?: () => number;
  /**
   * The sign-in request's cookies, for the visitor id whose assignments carry over to the user
   * (issue 5). Without it nothing is carried over.
   */
  readCookie?: CookieReader;
};

/** The whole next-auth configuration, from explicit dependencies (tests build their own). */
export function buildAuthOptions({
  env,
  db,
  limits,
  now = Date.now,
  readCookie,
}: AuthDependencies): NextAuthOptions {
  const signInLimits = limits ?? new SignInLimits({ now });
  const refreshRole = createRoleRefresher({
    lookup: (userId) => currentRole(db(), userId),
    now,
    onLookupError: (error) => logger.warn("session role check failed", { error: String(error) }),
  });

  /**
   * The anonymous visitor this browser was keeps its variants once signed in: their visitor
   * assignments are copied to the user (where the user has none). Best effort: a failure is
   * logged and the sign-in goes ahead, since the visitor cookie still serves the same variants here.
   */
  async function carryOverVisitor(userId: string): Promise<void> {
    if (!readCookie) return;
    try {
      const visitorId = await readCookie(VISITOR_COOKIE);
      if (!isVisitorId(visitorId)) return;
      const copied = await carryOverVisitorAssignments(db(), visitorId, userId);
      if (copied > 0) logger.info("visitor assignments carried over at sign-in", { userId, copied });
    } catch (error) {
      logger.error("visitor assignments could not be carried over at sign-in", {
        userId,
        error: String(error),
      });
    }
  }

  return {
    secret: resolveAuthSecret(env),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    // Errors land on our own page too (it explains the codes above) rather than next-auth's.
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(raw, req) {
          const parsed = credentialsSchema.safeParse(raw);
          if (!parsed.success) return null;
          const { email, password } = parsed.data;
          try {
            return await signInLimits.attempt(email, requestIp(req?.headers), async () => {
              const user = await db().user.findUnique({
                where: { email: email.trim().toLowerCase() },
                select: { id: true, email: true, name: true, role: true, passwordHash: true },
              });
              const matches = await verifyPassword(password, user?.passwordHash ?? (await decoy()));
              if (!user?.passwordHash || !matches) return null;
              return { id: user.id, email: user.email, name: user.name, role: user.role };
            });
          } catch (error) {
            if (error instanceof SignInRateLimitedError) {
              logger.warn("sign-in rate limited", { retryAfterSeconds: error.retryAfterSeconds });
              throw error;
            }
            logger.error("credentials sign-in failed", { error: String(error) });
            throw new Error(SIGN_IN_UNAVAILABLE);
          }
        },
      }),
      ...oauthProviders(env),
    ],
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.type !== "oauth") return true;
        try {
          await linkOAuthUser(db(), identityFromSignIn(account, user, profile));
          return true;
        } catch (error) {
          if (error instanceof OAuthSignInRefused) throw error;
          logger.error("OAuth sign-in could not link a user", {
            provider: account.provider,
            error: String(error),
          });
          throw new Error(OAUTH_CREATE_ACCOUNT);
        }
      },
      async jwt({ token, user, account }) {
        // `user` and `account` are only passed at sign-in (credentials and OAuth alike).
        if (user && account) {
          // For OAuth, `user` is the provider's profile and its id the provider's; the session
          // must carry Verdict's user, linked a moment ago in `signIn` (and its address, which is
          // what the audit log records, not whatever the provider reports today).
          const signedIn =
            account.type === "oauth"
              ? await findUserByAccount(db(), account.provider, account.providerAccountId)
              : {
                  id: user.id,
                  email: user.email ?? null,
                  name: user.name ?? null,
                  role: (user as { role?: Role }).role ?? "MEMBER",
                };
          if (!signedIn) throw new Error(OAUTH_CREATE_ACCOUNT);
          await carryOverVisitor(signedIn.id);
          return {
            ...token,
            sub: signedIn.id,
            email: signedIn.email ?? token.email,
            name: signedIn.name ?? token.name,
            userId: signedIn.id,
            role: signedIn.role,
            roleCheckedAt: now(),
          };
        }
        return refreshRole(token);
      },
      session({ session, token }) {
        if (session.user && token.userId) {
          session.user.id = token.userId;
          session.user.role = token.role ?? "MEMBER";
        }
        return session;
      },
    },
  };
}

let cached: NextAuthOptions | undefined;

/** Built on first use, so importing auth never reads the environment at build time. */
export function getAuthOptions(): NextAuthOptions {
  cached ??= buildAuthOptions({
    env: getEnv(),
    db: getDb,
    // Sign-in runs in the /api/auth route handler, where the request's cookies are at hand.
    readCookie: async (name) => (await cookies()).get(name)?.value,
  });
  return cached;
}
