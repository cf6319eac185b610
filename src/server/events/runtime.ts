import { getDb } from "../db/client";
import { databaseTargetFromEnv } from "../db/target";
import { within } from "../deadline";
import { type Env, getEnv } from "../env";
import { type DrainOutcome, drainHttpServers, watchHttpServers } from "../http-drain";
import { logger } from "../logger";
import type { Destination } from "./delivery";
import { PostHogDestination, WebhookDestination } from "./destinations";
import { type DispatcherOptions, EventDispatcher } from "./dispatcher";
import { scheduleRollups } from "./rollup-jobs";

/** The destinations the environment configures; none means events stay in the local store. */
export function destinationsFromEnv(env: Env): Destination[] {
  const destinations: Destination[] = [];
  if (env.POSTHOG_API_KEY)
    destinations.push(new PostHogDestination({ apiKey: env.POSTHOG_API_KEY, host: env.POSTHOG_HOST }));
  if (env.EVENTS_WEBHOOK_URL && env.EVENTS_WEBHOOK_SECRET) {
    destinations.push(
      new WebhookDestination({ url: env.EVENTS_WEBHOOK_URL, secret: env.EVENTS_WEBHOOK_SECRET }),
    );
  }
  return destinations;
}

/** The dispatcher's settings from the environment: the same for the in-app and worker placements. */
export function dispatcherOptionsFromEnv(env: Env): DispatcherOptions {
  return {
    leaseMs: env.EVENTS_LEASE_SECONDS * 1000,
    concurrency: env.EVENTS_DISPATCH_CONCURRENCY,
    batchSize: env.EVENTS_DISPATCH_BATCH_SIZE,
  };
}

const globalForDispatcher = globalThis as typeof globalThis & {
  __verdictDispatcher?: EventDispatcher | null;
  __verdictShutdown?: { exiting: Promise<void> | null };
};

/**
 * Starts the outbox dispatcher inside this process (once), unless it runs as a separate worker
 * (`EVENTS_DISPATCHER=off` with `npm run events:dispatch`). Several app instances may each run
 * one: claims never overlap. {@link handleShutdownSignals} stops it on SIGTERM.
 */
export function startInAppDispatcher(): EventDispatcher | null {
  if (globalForDispatcher.__verdictDispatcher !== undefined) return globalForDispatcher.__verdictDispatcher;
  const env = getEnv();
  const destinations = destinationsFromEnv(env);
  // Rollups serve the results page whether or not events leave this server. The embedded
  // database has no autovacuum, so the schedule vacuums and analyzes its event tables.
  scheduleRollups(getDb(), { maintain: databaseTargetFromEnv(env).kind === "pglite" });
  if (!env.POSTHOG_API_KEY) {
    logger.info("PostHog is off (no POSTHOG_API_KEY): events stay in the local store for the results page");
  }
  if (env.EVENTS_DISPATCHER === "off" || destinations.length === 0) {
    globalForDispatcher.__verdictDispatcher = null;
    return null;
  }
  const dispatcher = new EventDispatcher(getDb(), destinations, dispatcherOptionsFromEnv(env));
  dispatcher.start();
  globalForDispatcher.__verdictDispatcher = dispatcher;
  logger.info("event dispatcher started", {
    destinations: destinations.map((destination) => destination.name),
  });
  return dispatcher;
}

export type ShutdownSignal = "SIGTERM" | "SIGINT";

/** 128 + the signal's number: how a process ended by it reports, as Next's own handler exits. */
const SIGNAL_EXIT_CODES: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Longer than a destination may take to answer (10 s), shorter than the 30 s most orchestrators
 * wait before SIGKILL. A batch still out then keeps its lease and is delivered by the next
 * dispatcher to claim it, so giving up loses nothing.
 */
export const SHUTDOWN_GRACE_MS = 20_000;

/**
 * The process's shutdown: the HTTP server stops accepting connections and answers the requests in
 * flight while the dispatcher finishes its batches in flight, both within `graceMs`; then the
 * process exits with the signal's status.
 */
export async function shutDownAndExit(
  dispatcher: Pick<EventDispatcher, "stop"> | null,
  signal: ShutdownSignal,
  options: {
    exit?: (code: number) => void;
    graceMs?: number;
    drain?: (graceMs: number) => Promise<DrainOutcome>;
  } = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
  const drain = options.drain ?? drainHttpServers;
  await Promise.all([
    drain(graceMs).then((outcome) => {
      if (outcome === "timed-out") logger.warn("HTTP requests still in flight at shutdown", { signal });
    }),
    stopDispatcher(dispatcher, signal, graceMs),
  ]);
  exit(SIGNAL_EXIT_CODES[signal]);
}

async function stopDispatcher(
  dispatcher: Pick<EventDispatcher, "stop"> | null,
  signal: ShutdownSignal,
  graceMs: number,
): Promise<void> {
  if (!dispatcher) return;
  const stopped = dispatcher.stop().then(
    () => "stopped" as const,
    (error: unknown) => {
      logger.error("event dispatcher failed while stopping", { error: String(error) });
      return "failed" as const;
    },
  );
  const outcome = await within(stopped, graceMs);
  if (outcome === "timed-out") {
    logger.warn("event dispatcher still delivering at shutdown; its lease hands the batch to the next", {
      signal,
    });
  } else if (outcome === "stopped") {
    logger.info("event dispatcher stopped after its batch in flight", { signal });
  }
}

/**
 * SIGTERM and SIGINT for the server process. Next.js exits on them by itself unless
 * NEXT_MANUAL_SIG_HANDLE is set (its documented opt-out, which `scripts/serve.ts` sets): then these
 * handlers are how the process ends, after the requests and the dispatcher's batch in flight, so
 * install them before anything that could fail (and before requests arrive: the HTTP server is
 * found from the first). Without it, Next's exit comes first and the dispatcher is only
 * asked to stop claiming. Repeated signals are ignored: Ctrl-C reaches the server both from the
 * terminal and through the supervisor.
 */
export function handleShutdownSignals(): void {
  // Once per process: a dev server's reloads run instrumentation again.
  if (globalForDispatcher.__verdictShutdown) return;
  const state: { exiting: Promise<void> | null } = { exiting: null };
  globalForDispatcher.__verdictShutdown = state;
  const manual = Boolean(process.env.NEXT_MANUAL_SIG_HANDLE);
  if (manual) watchHttpServers();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (state.exiting) return;
      const dispatcher = globalForDispatcher.__verdictDispatcher ?? null;
      state.exiting = manual
        ? shutDownAndExit(dispatcher, signal)
        : (dispatcher?.stop() ?? Promise.resolve()).catch(() => {});
    });
  }
}
