import type { Metadata } from "next";
import { oauthButtons } from "@/server/auth/oauth-providers";
import { getEnv } from "@/server/env";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

type Props = { searchParams: Promise<{ callbackUrl?: string; error?: string }> };

/** Only same-site paths are accepted as a destination after sign-in (no open redirects). */
function safeCallback(value: string | undefined): string {
  return value?.startsWith("/") && !value.startsWith("//") ? value : "/admin/experiments";
}

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
