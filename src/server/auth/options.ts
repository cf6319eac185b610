import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
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

export type AuthDependencies = {
  env: Env;
  /** A getter, so building the options never opens a database by itself. */
  db: () => PrismaClient;
  limits?: SignInLimits;
  now?: () => number;
};

/** The whole next-auth configuration, from explicit dependencies (tests build their own). */
export function buildAuthOptions({ env, db, limits, now = Date.now }: AuthDependencies): NextAuthOptions {
  const signInLimits = limits ?? new SignInLimits({ now });
  const refreshRole = createRoleRefresher({
    lookup: (userId) => currentRole(db(), userId),
    now,
    onLookupError: (error) => logger.warn("session role check failed", { error: String(error) }),
  });

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
        if (user && account) {
          // For OAuth, `user` is the provider's profile and its id the provider's; the session
          // must carry Verdict's user, linked a moment ago in `signIn`.
          const signedIn =
            account.type === "oauth"
              ? await findUserByAccount(db(), account.provider, account.providerAccountId)
              : { id: user.id, role: (user as { role?: Role }).role ?? "MEMBER" };
          if (!signedIn) throw new Error(OAUTH_CREATE_ACCOUNT);
          return {
            ...token,
            sub: signedIn.id,
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
  cached ??= buildAuthOptions({ env: getEnv(), db: getDb });
  return cached;
}
