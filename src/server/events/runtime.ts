import { getDb } from "../db/client";
import { type Env, getEnv } from "../env";
import { logger } from "../logger";
import { PostHogDestination, WebhookDestination } from "./destinations";
import { type Destination, EventDispatcher } from "./dispatcher";
import { scheduleRollups } from "./rollups";

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

const globalForDispatcher = globalThis as typeof globalThis & {
  __verdictDispatcher?: EventDispatcher | null;
};

/**
 * Starts the outbox dispatcher inside this process (once), unless it runs as a separate worker
 * (`EVENTS_DISPATCHER=off` with `npm run events:dispatch`). Several app instances may each run
 * one: claims never overlap. On SIGTERM the batch in flight is finished first.
 */
export function startInAppDispatcher(): EventDispatcher | null {
  if (globalForDispatcher.__verdictDispatcher !== undefined) return globalForDispatcher.__verdictDispatcher;
  const env = getEnv();
  const destinations = destinationsFromEnv(env);
  // Rollups serve the results page whether or not events leave this server.
  scheduleRollups(getDb());
  if (!env.POSTHOG_API_KEY) {
    logger.info("PostHog is off (no POSTHOG_API_KEY): events stay in the local store for the results page");
  }
  if (env.EVENTS_DISPATCHER === "off" || destinations.length === 0) {
    globalForDispatcher.__verdictDispatcher = null;
    return null;
  }
  const dispatcher = new EventDispatcher(getDb(), destinations, { leaseMs: env.EVENTS_LEASE_SECONDS * 1000 });
  dispatcher.start();
  globalForDispatcher.__verdictDispatcher = dispatcher;
  logger.info("event dispatcher started", {
    destinations: destinations.map((destination) => destination.name),
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void dispatcher.stop().finally(() => logger.info("event dispatcher stopped", { signal }));
    });
  }
  return dispatcher;
}
