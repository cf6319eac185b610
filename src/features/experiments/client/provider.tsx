"use client";

import { createTRPCClient, httpBatchLink } from "@trpc/client";
import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useState,
} from "react";
import superjson from "superjson";
import { FORCE_PARAM } from "@/features/experiments/core/force";
import type {
  RequestAssignments,
  RequestIdentity,
  ServedAssignment,
} from "@/features/experiments/server/request-assignments";
import type { AppRouter } from "@/server/api/root";
import { readLastCachedAssignments, writeCachedAssignments } from "./assignment-cache";
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

// Layout effects run before the browser paints, so a cached answer replaces the defaults without a
// visible frame of them; on the server (where there is no cache) a plain effect avoids React's warning.
const useBeforePaintEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

function identityOf(subjectKey: string, visitorId: string | null): RequestIdentity {
  return subjectKey.startsWith("user:")
    ? { userId: subjectKey.slice("user:".length), teamId: null, visitorId }
    : { userId: null, teamId: null, visitorId };
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

  useBeforePaintEffect(() => {
    // Keeps the cookie and its localStorage mirror in sync (restoring whichever is missing).
    const visitorId = getOrCreateVisitorId();
    if (initial) {
      const key = subjectKeyOf(initial.identity);
      if (key) writeCachedAssignments(key, initial.assignments);
      return;
    }
    // No server answer: show what this browser was served last time (to this visitor, or to the
    // user signed in here), then ask again; the fresh answer replaces it.
    const cached = readLastCachedAssignments(visitorId ? `visitor:${visitorId}` : null);
    const usable =
      cached && (cached.subjectKey.startsWith("user:") || cached.subjectKey === `visitor:${visitorId}`);
    if (cached && usable) {
      setState({ identity: identityOf(cached.subjectKey, visitorId), assignments: cached.assignments });
    }
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

/** The provider's value, or null outside one (hooks given explicit ids work without it). */
export function useOptionalExperimentContext(): ExperimentContextValue | null {
  return useContext(ExperimentContext);
}

/** Thrown by hooks that have neither a provider above them nor explicit ids to ask with. */
export class MissingProviderError extends Error {
  constructor() {
    super("Experiment hooks need an <ExperimentProvider> above them");
    this.name = "MissingProviderError";
  }
}

export function useExperimentContext(): ExperimentContextValue {
  const context = useContext(ExperimentContext);
  if (!context) throw new MissingProviderError();
  return context;
}
