// `npm run events:dispatch`: the outbox dispatcher as its own worker process (for deployments that
// keep it out of the web instances: set EVENTS_DISPATCHER=off there). Stops on SIGTERM/SIGINT
// after the batch in flight.
import { getDb } from "@/server/db/client";
import { getEnv } from "@/server/env";
import { EventDispatcher } from "@/server/events/dispatcher";
import { destinationsFromEnv, dispatcherOptionsFromEnv } from "@/server/events/runtime";
import { runCli } from "./cli";

await runCli(async () => {
  const env = getEnv();
  const destinations = destinationsFromEnv(env);
  if (!destinations.length) {
    console.log("• No destination configured (POSTHOG_API_KEY or EVENTS_WEBHOOK_URL): nothing to dispatch");
    return;
  }
  const dispatcher = new EventDispatcher(getDb(), destinations, dispatcherOptionsFromEnv(env));
  console.log(`• Dispatching events to ${destinations.map((destination) => destination.name).join(", ")}`);
  dispatcher.start();
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => resolve());
  });
  await dispatcher.stop();
  console.log("• Stopped after the batch in flight");
});
