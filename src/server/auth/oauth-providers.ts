import type { Account, NextAuthOptions, Profile, User } from "next-auth";
import GitHubProvider from "next-auth/providers/github";
import GoogleProvider from "next-auth/providers/google";
import type { Env } from "../env";
import type { OAuthIdentity } from "./oauth-users";

/** GitHub and Google sign-in, each offered only when its pair of variables is set. */
export type OAuthButton = { id: "github" | "google"; name: string };

/** What the sign-in page shows; the server page passes it down, so the browser never asks. */
export function oauthButtons(env: Env): OAuthButton[] {
  const buttons: OAuthButton[] = [];
  if (env.GITHUB_ID && env.GITHUB_SECRET) buttons.push({ id: "github", name: "GitHub" });
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) buttons.push({ id: "google", name: "Google" });
  return buttons;
}

type GitHubEmail = { email?: unknown; primary?: unknown; verified?: unknown };

/**
 * The address to sign in with, from GitHub's /user/emails. A verified address is preferred (the
 * primary one, then the public profile's, then any), and an address only counts as verified when
 * GitHub says so; next-auth's default takes the primary address either way.
 */
export function pickGitHubEmail(
  emails: unknown,
  publicEmail: string | null | undefined,
): { email: string | null; verified: boolean } {
  const list = (Array.isArray(emails) ? emails : []).filter(
    (entry): entry is GitHubEmail & { email: string } =>
      typeof entry === "object" && entry !== null && typeof (entry as GitHubEmail).email === "string",
  );
  const verified = (entry: GitHubEmail) => entry.verified === true;
  const chosen =
    list.find((entry) => entry.primary === true && verified(entry)) ??
    list.find((entry) => verified(entry) && entry.email === publicEmail) ??
    list.find(verified) ??
    list.find((entry) => entry.primary === true);
  if (chosen) return { email: chosen.email, verified: verified(chosen) };
  return { email: publicEmail ?? null, verified: false };
}

export function oauthProviders(env: Env): NextAuthOptions["providers"] {
  const providers: NextAuthOptions["providers"] = [];
  if (env.GITHUB_ID && env.GITHUB_SECRET) {
    providers.push(
      GitHubProvider({
        clientId: env.GITHUB_ID,
        clientSecret: env.GITHUB_SECRET,
        userinfo: {
          url: "https://api.github.com/user",
          // Always asks for the address list (scope user:email): the public profile email says
          // nothing about verification, and linking to an existing user needs a verified one.
          async request({ client, tokens }) {
            const profile = await client.userinfo(tokens.access_token ?? "");
            // Without the list the sign-in still works for an already linked account, so a
            // failure here only means "no verified address", not an error.
            let emails: unknown = [];
            try {
              const response = await fetch("https://api.github.com/user/emails", {
                headers: {
                  Authorization: `Bearer ${tokens.access_token}`,
                  Accept: "application/vnd.github+json",
                  "User-Agent": "Verdict",
                },
              });
              if (response.ok) emails = await response.json();
            } catch {
              emails = [];
            }
            const publicEmail = typeof profile.email === "string" ? profile.email : null;
            const { email, verified } = pickGitHubEmail(emails, publicEmail);
            return { ...profile, email: email ?? undefined, email_verified: verified };
          },
        },
      }),
    );
  }
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    providers.push(
      GoogleProvider({ clientId: env.GOOGLE_CLIENT_ID, clientSecret: env.GOOGLE_CLIENT_SECRET }),
    );
  }
  return providers;
}

/**
 * The identity to link, from the `signIn` callback's arguments. Both providers report
 * `email_verified` in the raw profile: Google in its ID token, GitHub through the request above.
 */
export function identityFromSignIn(
  account: Account,
  user: User,
  profile: Profile | undefined,
): OAuthIdentity {
  const raw = (profile ?? {}) as Record<string, unknown>;
  return {
    provider: account.provider,
    providerAccountId: account.providerAccountId,
    type: account.type,
    email: user.email,
    emailVerified: raw.email_verified === true,
    name: user.name,
    image: user.image,
  };
}
