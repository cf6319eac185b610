import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "../db/client";
import { getEnv } from "../env";
import { verifyPassword } from "./password";
import { resolveAuthSecret } from "./secret";

export type Role = "ADMIN" | "MEMBER";

const credentialsSchema = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
});

/** Sessions expire after a working day of inactivity. */
const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

let cached: NextAuthOptions | undefined;

/** Built on first use, so importing auth never reads the environment at build time. */
export function getAuthOptions(): NextAuthOptions {
  cached ??= {
    secret: resolveAuthSecret(getEnv()),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(raw) {
          const parsed = credentialsSchema.safeParse(raw);
          if (!parsed.success) return null;
          const user = await getDb().user.findUnique({
            where: { email: parsed.data.email.toLowerCase() },
            select: { id: true, email: true, name: true, role: true, passwordHash: true },
          });
          if (!user?.passwordHash || !(await verifyPassword(parsed.data.password, user.passwordHash)))
            return null;
          return { id: user.id, email: user.email, name: user.name, role: user.role };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.userId = user.id;
          token.role = (user as { role?: Role }).role ?? "MEMBER";
        }
        return token;
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
  return cached;
}
