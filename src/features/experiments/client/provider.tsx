"use client";

import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from "react";
import superjson from "superjson";
import { FORCE_PARAM } from "@/features/experiments/core/force";
import type {
  RequestAssignments,
  RequestIdentity,
  ServedAssignment,
} from "@/features/experiments/server/request-assignments";
import type { AppRouter } from "@/server/api/root";
import { readCachedAssignments, writeCachedAssignments } from "./assignment-cache";
import { createBrowserTracker, type ExperimentTracker } from "./tracker";
import { getOrCreateVisitorId } from "./visitor-id";

export type ExperimentContextValue = {
  identity: RequestIdentity;
  assignments: Record<string, ServedAssignment>;
  /** True until the first answer (server-rendered or fetched) is known. */
  isLoading: boolean;
  tracker: ExperimentTracker;
  /** Asks the server again (after sign-in, say); the answer replaces what is shown. */
  refresh(): Promise<void>;
};

export const ExperimentContext = createContext<ExperimentContextValue | null>(null);

type Fetcher = (input: { slugs?: string[]; force?: string }) => Promise<RequestAssignments>;

let sharedTracker: ExperimentTracker | null = null;
let sharedClient: ReturnType<typeof createTRPCClient<AppRouter>> | null = null;

function client() {
  sharedClient ??= createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })],
  });
  return sharedClient;
}

/** The process-wide browser tracker (one queue per page), also used by `trackConversion`. */
export function getBrowserTracker(): ExperimentTracker {
  sharedTracker ??= createBrowserTracker({
    send: (events) => client().events.track.mutate({ events }),
    beaconUrl: "/api/events",
  });
  return sharedTracker;
}

const defaultFetcher: Fetcher = (input) => client().experiments.forRequest.query(input);

function subjectKeyOf(identity: RequestIdentity): string | null {
  return identity.userId
    ? `user:${identity.userId}`
    : identity.visitorId
      ? `visitor:${identity.visitorId}`
      : null;
}

function forcedFromUrl(): string | undefined {
  if (typeof window === "undefined") return undefined;
  return new URLSearchParams(window.location.search).get(FORCE_PARAM) ?? undefined;
}

/**
 * Every running experiment for the current subject, fetched in one request. Seeded with the
 * assignments the server resolved for this request (`getRequestAssignments`), so nothing waits on
 * the client and nothing shifts; without them, a cached answer renders at once and the server is
 * asked in the background.
 */
export function ExperimentProvider({
  initial,
  slugs,
  tracker,
  fetcher = defaultFetcher,
  children,
}: {
  initial?: RequestAssignments | null;
  slugs?: string[];
  tracker?: ExperimentTracker;
  fetcher?: Fetcher;
  children: ReactNode;
}) {
  const [state, setState] = useState<{
    identity: RequestIdentity;
    assignments: Record<string, ServedAssignment>;
  } | null>(initial ?? null);
  const activeTracker = useMemo(() => tracker ?? getBrowserTracker(), [tracker]);
  const slugKey = slugs?.join(",");

  const refresh = useMemo(
    () => async () => {
      const fresh = await fetcher({
        slugs: slugKey ? slugKey.split(",") : undefined,
        force: forcedFromUrl(),
      });
      setState(fresh);
      const key = subjectKeyOf(fresh.identity);
      if (key) writeCachedAssignments(key, fresh.assignments);
    },
    [fetcher, slugKey],
  );

  useEffect(() => {
    // Keeps the cookie and its localStorage mirror in sync (restoring whichever is missing).
    const visitorId = getOrCreateVisitorId();
    if (initial) {
      const key = subjectKeyOf(initial.identity);
      if (key) writeCachedAssignments(key, initial.assignments);
      return;
    }
    // No server answer: show what this browser was served last time, then ask again.
    const cached = visitorId ? readCachedAssignments(`visitor:${visitorId}`) : null;
    if (cached) setState({ identity: { userId: null, teamId: null, visitorId }, assignments: cached });
    refresh().catch(() => {
      // Keep the cached answer (or the defaults); the hooks report no variant.
    });
  }, [initial, refresh]);

  const value = useMemo<ExperimentContextValue>(
    () => ({
      identity: state?.identity ?? { userId: null, teamId: null, visitorId: null },
      assignments: state?.assignments ?? {},
      isLoading: state === null,
      tracker: activeTracker,
      refresh,
    }),
    [state, activeTracker, refresh],
  );
  return <ExperimentContext.Provider value={value}>{children}</ExperimentContext.Provider>;
}

export function useExperimentContext(): ExperimentContextValue {
  const context = useContext(ExperimentContext);
  if (!context) throw new Error("Experiment hooks need an <ExperimentProvider> above them");
  return context;
}
