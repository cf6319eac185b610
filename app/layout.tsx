import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { type BrowserAnalyticsConfig, ConsentBanner } from "@/features/experiments/client/analytics";
import { getEnv } from "@/server/env";
import { TRPCReactProvider } from "@/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Verdict", template: "%s · Verdict" },
  description:
    "Self-hostable experimentation: A/B tests with sticky assignments, targeting and honest statistics.",
};

/** PostHog settings for the browser, read per request so one build serves every environment. */
async function analyticsConfig(): Promise<BrowserAnalyticsConfig> {
  await connection();
  const env = getEnv();
  if (!env.POSTHOG_API_KEY) return null;
  return {
    key: env.POSTHOG_API_KEY,
    uiHost: env.POSTHOG_HOST.replace(".i.posthog.com", ".posthog.com"),
    autocapture: env.POSTHOG_AUTOCAPTURE,
    sessionRecording: env.POSTHOG_SESSION_RECORDING,
    capturePageviews: env.POSTHOG_CAPTURE_PAGEVIEWS,
  };
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const analytics = await analyticsConfig();
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>
          {children}
          <ConsentBanner config={analytics} />
        </TRPCReactProvider>
      </body>
    </html>
  );
}
