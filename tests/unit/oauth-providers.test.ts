import type { Account, User } from "next-auth";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  identityFromSignIn,
  oauthButtons,
  oauthProviders,
  pickGitHubEmail,
} from "@/server/auth/oauth-providers";
import { signInRateLimitMessage } from "@/server/auth/sign-in-limits";
import { type Env, parseEnv } from "@/server/env";
import { safeCallback } from "../../app/signin/safe-callback";
import { describeSignInError } from "../../app/signin/sign-in-form";

const GITHUB = { GITHUB_ID: "gh-id", GITHUB_SECRET: "gh-secret" };
const GOOGLE = { GOOGLE_CLIENT_ID: "google-id", GOOGLE_CLIENT_SECRET: "google-secret" };

function env(values: Record<string, string> = {}): Env {
  return parseEnv({ NODE_ENV: "test", ...values });
}

describe("oauthButtons", () => {
  it("offers each provider only when both of its variables are set", () => {
    expect(oauthButtons(env())).toEqual([]);
    expect(oauthButtons(env(GITHUB))).toEqual([{ id: "github", name: "GitHub" }]);
    expect(oauthButtons(env(GOOGLE))).toEqual([{ id: "google", name: "Google" }]);
    expect(oauthButtons(env({ ...GITHUB, ...GOOGLE }))).toEqual([
      { id: "github", name: "GitHub" },
      { id: "google", name: "Google" },
    ]);
  });

  it("treats blank values as unset", () => {
    expect(oauthButtons(env({ GITHUB_ID: "  ", GITHUB_SECRET: "", ...GOOGLE }))).toEqual([
      { id: "google", name: "Google" },
    ]);
  });

  it("never sees half a pair: the environment refuses it", () => {
    expect(() => env({ GITHUB_ID: "gh-id" })).toThrow(/GITHUB_SECRET is required when GITHUB_ID is set/);
    expect(() => env({ GOOGLE_CLIENT_SECRET: "x" })).toThrow(/GOOGLE_CLIENT_ID is required/);
  });
});

describe("pickGitHubEmail", () => {
  it("takes the verified primary address", () => {
    const emails = [
      { email: "work@example.com", primary: false, verified: true },
      { email: "me@example.com", primary: true, verified: true },
    ];
    expect(pickGitHubEmail(emails, "work@example.com")).toEqual({ email: "me@example.com", verified: true });
  });

  it("prefers a verified public address over an unverified primary one", () => {
    const emails = [
      { email: "new@example.com", primary: true, verified: false },
      { email: "other@example.com", primary: false, verified: true },
      { email: "public@example.com", primary: false, verified: true },
    ];
    expect(pickGitHubEmail(emails, "public@example.com")).toEqual({
      email: "public@example.com",
      verified: true,
    });
  });

  it("falls back to any verified address, then to the unverified primary one (marked unverified)", () => {
    expect(
      pickGitHubEmail(
        [
          { email: "new@example.com", primary: true, verified: false },
          { email: "old@example.com", primary: false, verified: true },
        ],
        null,
      ),
    ).toEqual({ email: "old@example.com", verified: true });
    expect(
      pickGitHubEmail(
        [
          { email: "new@example.com", primary: true, verified: false },
          { email: "x@example.com", primary: false, verified: false },
        ],
        "x@example.com",
      ),
    ).toEqual({ email: "new@example.com", verified: false });
  });

  it("only counts verified: true, not truthy look-alikes", () => {
    expect(pickGitHubEmail([{ email: "me@example.com", primary: true, verified: "true" }], null)).toEqual({
      email: "me@example.com",
      verified: false,
    });
  });

  it("uses the public profile address, unverified, when the list is missing, empty or malformed", () => {
    const unverified = { email: "public@example.com", verified: false };
    expect(pickGitHubEmail(undefined, "public@example.com")).toEqual(unverified);
    expect(pickGitHubEmail({ message: "Bad credentials" }, "public@example.com")).toEqual(unverified);
    expect(pickGitHubEmail([], "public@example.com")).toEqual(unverified);
    expect(
      pickGitHubEmail([null, 42, { email: 7, primary: true, verified: true }], "public@example.com"),
    ).toEqual(unverified);
    expect(pickGitHubEmail([], null)).toEqual({ email: null, verified: false });
    expect(pickGitHubEmail("nonsense", undefined)).toEqual({ email: null, verified: false });
  });
});

describe("identityFromSignIn", () => {
  const account: Account = {
    provider: "github",
    providerAccountId: "583231",
    type: "oauth",
    access_token: "gho_secret",
  };
  const user: User = { id: "583231", email: "Octo@Example.com", name: "Octo Cat", image: "https://x/y.png" };

  it("takes the provider account and the profile's own email_verified flag", () => {
    expect(identityFromSignIn(account, user, { email_verified: true } as never)).toEqual({
      provider: "github",
      providerAccountId: "583231",
      type: "oauth",
      email: "Octo@Example.com",
      emailVerified: true,
      name: "Octo Cat",
      image: "https://x/y.png",
    });
  });

  it("counts an address as verified only when the profile says exactly true", () => {
    for (const profile of [
      undefined,
      {},
      { email_verified: "true" },
      { email_verified: 1 },
      { email_verified: false },
    ]) {
      expect(identityFromSignIn(account, user, profile as never).emailVerified).toBe(false);
    }
  });

  it("carries no provider tokens", () => {
    expect(JSON.stringify(identityFromSignIn(account, user, undefined))).not.toContain("gho_secret");
  });
});

type UserinfoRequest = (context: {
  client: { userinfo: (accessToken: string) => Promise<Record<string, unknown>> };
  tokens: { access_token?: string };
}) => Promise<Record<string, unknown>>;

function githubUserinfo(providers: ReturnType<typeof oauthProviders>): UserinfoRequest {
  const github = providers.find((provider) => provider.id === "github") as OAuthConfig<unknown> | undefined;
  const userinfo = github?.options?.userinfo;
  if (!userinfo || typeof userinfo === "string" || !userinfo.request) throw new Error("no GitHub userinfo");
  return userinfo.request as unknown as UserinfoRequest;
}

describe("oauthProviders", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("lists exactly the configured providers, with their credentials", () => {
    expect(oauthProviders(env())).toEqual([]);
    const both = oauthProviders(env({ ...GITHUB, ...GOOGLE }));
    expect(both.map((provider) => [provider.id, provider.type])).toEqual([
      ["github", "oauth"],
      ["google", "oauth"],
    ]);
    const [github, google] = both as OAuthConfig<unknown>[];
    expect(github?.options).toMatchObject({ clientId: "gh-id", clientSecret: "gh-secret" });
    expect(google?.options).toMatchObject({ clientId: "google-id", clientSecret: "google-secret" });
    // GitHub asks for the address list; Google puts email_verified in its ID token.
    expect(JSON.stringify(github?.authorization)).toContain("user:email");
    expect(google?.idToken).toBe(true);
    expect(oauthProviders(env(GOOGLE)).map((provider) => provider.id)).toEqual(["google"]);
  });

  it("GitHub: reads /user/emails and reports the chosen address with its verification", async () => {
    const calls: { url: string; headers: Record<string, string> }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: { headers: Record<string, string> }) => {
      calls.push({ url, headers: init.headers });
      return new Response(
        JSON.stringify([
          { email: "hidden@example.com", primary: true, verified: true },
          { email: "public@example.com", primary: false, verified: false },
        ]),
        { status: 200, headers: { "content-type": "application/json" } },
      );
    });
    const request = githubUserinfo(oauthProviders(env(GITHUB)));
    const profile = await request({
      client: { userinfo: async () => ({ id: 583231, login: "octo", email: "public@example.com" }) },
      tokens: { access_token: "gho_token" },
    });
    expect(profile).toMatchObject({
      id: 583231,
      login: "octo",
      email: "hidden@example.com",
      email_verified: true,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("https://api.github.com/user/emails");
    expect(calls[0]?.headers.Authorization).toBe("Bearer gho_token");
  });

  it("GitHub: a failed or unreachable /user/emails leaves the public address, unverified", async () => {
    const request = githubUserinfo(oauthProviders(env(GITHUB)));
    const client = { userinfo: async () => ({ id: 1, login: "octo", email: "public@example.com" }) };

    vi.stubGlobal("fetch", async () => new Response("{}", { status: 403 }));
    expect(await request({ client, tokens: { access_token: "t" } })).toMatchObject({
      email: "public@example.com",
      email_verified: false,
    });

    vi.stubGlobal("fetch", async () => {
      throw new TypeError("fetch failed");
    });
    expect(await request({ client, tokens: { access_token: "t" } })).toMatchObject({
      email: "public@example.com",
      email_verified: false,
    });
  });
});

describe("describeSignInError", () => {
  it("explains the codes it knows", () => {
    expect(describeSignInError("CredentialsSignin")).toBe("Wrong email or password.");
    expect(describeSignInError("SignInUnavailable")).toMatch(/unavailable/);
    expect(describeSignInError("OAuthNoEmail")).toMatch(/did not share an email address/);
    expect(describeSignInError("OAuthEmailUnverified")).toMatch(/not verified/);
    expect(describeSignInError("OAuthCreateAccount")).toMatch(/did not work/);
    expect(describeSignInError(null)).toBeNull();
    expect(describeSignInError("")).toBeNull();
  });

  it("echoes the rate-limit sentence exactly as the server produces it, for any wait", () => {
    for (const seconds of [1, 59, 60, 61, 119, 600, 899, 900, 3600, 86_400]) {
      const sentence = signInRateLimitMessage(seconds);
      expect(describeSignInError(sentence)).toBe(sentence);
    }
  });

  it("never echoes anything else, however close to the sentence or to a known code", () => {
    const generic = "Sign-in failed. Try again.";
    for (const text of [
      "Too many sign-in attempts. Call 555-0100 to unlock your account.",
      "Too many sign-in attempts. Try again in 15 minutes. Or visit evil.example",
      " Too many sign-in attempts. Try again in 15 minutes.",
      "Too many sign-in attempts. Try again in 15 minutes.\nVisit evil.example",
      "Too many sign-in attempts. Try again in 123456 minutes.",
      "credentialssignin",
      "<script>alert(1)</script>",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
    ]) {
      expect(describeSignInError(text), text).toBe(generic);
    }
  });
});

describe("safeCallback (the sign-in page's destination)", () => {
  it("keeps same-site paths with their query and fragment", () => {
    expect(safeCallback("/admin/experiments")).toBe("/admin/experiments");
    expect(safeCallback("/admin/experiments/landing-hero?tab=audit#log")).toBe(
      "/admin/experiments/landing-hero?tab=audit#log",
    );
    expect(safeCallback("/")).toBe("/");
  });

  it("sends anything that could leave the site to the console instead", () => {
    for (const value of [
      undefined,
      "",
      ["/a", "/b"],
      "https://evil.example/",
      "//evil.example/path",
      "/\\evil.example",
      "/\t/evil.example",
      "javascript:alert(1)",
      "admin/experiments",
    ]) {
      expect(safeCallback(value), String(value)).toBe("/admin/experiments");
    }
  });
});
