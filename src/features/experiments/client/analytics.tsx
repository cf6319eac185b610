"use client";

import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { useEffect, useState } from "react";
import superjson from "superjson";
import { CONSENT_COOKIE } from "@/features/experiments/core/consent";
import { readCookie } from "@/features/experiments/core/visitor";
import type { AppRouter } from "@/server/api/root";
import { getOrCreateVisitorId } from "./visitor-id";

/** What the server tells the browser about PostHog, read at run time (one build, every environment). */
export type BrowserAnalyticsConfig = {
  key: string;
  uiHost: string;
  autocapture: boolean;
  sessionRecording: boolean;
  capturePageviews: boolean;
} | null;

type Answer = "granted" | "denied" | null;

const YEAR_SECONDS = 365 * 24 * 60 * 60;

function privacySignal(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  return nav.globalPrivacyControl === true || nav.doNotTrack === "1";
}

function remember(answer: "granted" | "denied") {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  // biome-ignore lint/suspicious/noDocumentCookie: a first-party preference cookie, read by the server too
  document.cookie = `${CONSENT_COOKIE}=${answer}; Path=/; Max-Age=${YEAR_SECONDS}; SameSite=Lax${secure}`;
}

async function tellServer(consent: "granted" | "denied") {
  const client = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })],
  });
  await client.events.setConsent.mutate({ consent }).catch(() => {});
}

/**
 * Loads posthog-js only after consent, through our `/ingest` proxy, with the visitor id (or the
 * user id once signed in) as distinct id so browser and server events join. Autocapture, session
 * recording and pageviews stay off unless the environment switches them on.
 */
async function startPostHog(config: NonNullable<BrowserAnalyticsConfig>) {
  const { default: posthog } = await import("posthog-js");
  const visitorId = getOrCreateVisitorId() ?? undefined;
  posthog.init(config.key, {
    api_host: "/ingest",
    ui_host: config.uiHost,
    autocapture: config.autocapture,
    capture_pageview: config.capturePageviews,
    capture_pageleave: config.capturePageviews,
    disable_session_recording: !config.sessionRecording,
    persistence: "localStorage+cookie",
    bootstrap: visitorId ? { distinctID: visitorId } : undefined,
  });
  const session = await fetch("/api/auth/session")
    .then((response) => response.json() as Promise<{ user?: { id?: string } }>)
    .catch(() => null);
  if (session?.user?.id) posthog.identify(session.user.id);
  // Lets checkout code read the browser's distinct id for the cart attributes.
  (window as unknown as { posthog?: typeof posthog }).posthog = posthog;
}

/** The consent banner, shown until the visitor answers; nothing goes to PostHog before "Accept". */
export function ConsentBanner({ config }: { config: BrowserAnalyticsConfig }) {
  const [answer, setAnswer] = useState<Answer | "unknown">("unknown");

  useEffect(() => {
    if (!config) return;
    const stored = readCookie(document.cookie, CONSENT_COOKIE);
    if (privacySignal()) {
      // Do-Not-Track / Global Privacy Control: a refusal, without asking.
      if (stored !== "denied") {
        remember("denied");
        void tellServer("denied");
      }
      setAnswer("denied");
      return;
    }
    const known: Answer = stored === "granted" || stored === "denied" ? stored : null;
    setAnswer(known);
    if (known === "granted") void startPostHog(config);
  }, [config]);

  if (!config || answer !== null) return null;

  const choose = (choice: "granted" | "denied") => {
    remember(choice);
    setAnswer(choice);
    void tellServer(choice).then(() => (choice === "granted" ? startPostHog(config) : undefined));
  };
  return (
    <section className="consent-banner" aria-label="Analytics consent" data-testid="consent-banner">
      <p>
        May we measure how you use this site with PostHog? Nothing is sent until you accept; experiments work
        either way.
      </p>
      <div className="actions">
        <button type="button" data-testid="consent-accept" onClick={() => choose("granted")}>
          Accept
        </button>
        <button
          type="button"
          className="secondary"
          data-testid="consent-decline"
          onClick={() => choose("denied")}
        >
          Decline
        </button>
      </div>
    </section>
  );
}
