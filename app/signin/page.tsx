import type { Metadata } from "next";
import { oauthButtons } from "@/server/auth/oauth-providers";
import { getEnv } from "@/server/env";
import { safeCallback } from "./safe-callback";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

// A repeated parameter arrives as an array: both are checked for being a plain string.
type Props = { searchParams: Promise<{ callbackUrl?: string | string[]; error?: string | string[] }> };

export default async function SignInPage({ searchParams }: Props) {
  const params = await searchParams;
  return (
    <main className="stack" style={{ maxWidth: 420 }}>
      <h1>Sign in to Verdict</h1>
      <SignInForm
        callbackUrl={safeCallback(params.callbackUrl)}
        errorCode={typeof params.error === "string" && params.error ? params.error : null}
        providers={oauthButtons(getEnv())}
      />
    </main>
  );
}
