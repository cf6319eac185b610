"use client";

import { signIn } from "next-auth/react";
import { type FormEvent, useState } from "react";

type OAuthButton = { id: string; name: string };

/** Must match signInRateLimitMessage in src/server/auth/sign-in-limits.ts (a unit test checks). */
const RATE_LIMITED = /^Too many sign-in attempts\. Try again in \d{1,4} minutes?\.$/;

const MESSAGES: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  SignInUnavailable: "Sign-in is unavailable right now. Try again in a moment.",
  OAuthNoEmail: "That account did not share an email address with Verdict, so it cannot be used to sign in.",
  OAuthEmailUnverified:
    "That account's email address is not verified. Verify it with the provider, then try again.",
  OAuthAccountNotLinked: "That email address is already used by another sign-in method.",
  OAuthCreateAccount: "Signing in with that account did not work. Try again in a moment.",
  OAuthSignin: "Could not start signing in with that provider. Try again in a moment.",
  OAuthCallback: "The provider's answer could not be used. Try again.",
  Callback: "Signing in did not work. Try again.",
  AccessDenied: "Access denied.",
  SessionRequired: "Sign in to continue.",
};

/**
 * The sentence for an error code from next-auth (`?error=` or signIn()'s result). Anyone can put
 * text in a URL, so only known codes and the rate-limit sentence are shown as they are.
 */
export function describeSignInError(code: string | null | undefined): string | null {
  if (!code) return null;
  if (RATE_LIMITED.test(code)) return code;
  // Own keys only: "constructor" or "__proto__" in a URL must not reach the page as an object.
  return Object.hasOwn(MESSAGES, code) ? (MESSAGES[code] as string) : "Sign-in failed. Try again.";
}

export function SignInForm({
  callbackUrl,
  errorCode,
  providers,
}: {
  callbackUrl: string;
  errorCode: string | null;
  providers: OAuthButton[];
}) {
  const [error, setError] = useState(() => describeSignInError(errorCode));
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    try {
      const result = await signIn("credentials", {
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
        redirect: false,
      });
      if (result?.ok && !result.error) {
        window.location.assign(callbackUrl);
        return;
      }
      setError(describeSignInError(result?.error ?? "CredentialsSignin"));
    } catch {
      setError(describeSignInError("SignInUnavailable"));
    }
    setPending(false);
  }

  return (
    <div className="stack">
      {providers.length ? (
        <div className="card stack">
          {providers.map((provider) => (
            <button
              key={provider.id}
              type="button"
              className="secondary"
              style={{ width: "100%" }}
              disabled={pending}
              onClick={() => {
                setPending(true);
                void signIn(provider.id, { callbackUrl });
              }}
            >
              Continue with {provider.name}
            </button>
          ))}
        </div>
      ) : null}
      <form className="card stack" onSubmit={onSubmit} aria-describedby={error ? "signin-error" : undefined}>
        <div>
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required />
        </div>
        <div>
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
        </div>
        {error ? (
          <p id="signin-error" role="alert" className="error">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
