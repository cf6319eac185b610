import type { Metadata } from "next";
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
        initialError={params.error ? "Sign-in failed." : null}
      />
    </main>
  );
}
