import { adminEventsRouter } from "./routers/admin-events";
import { adminExperimentsRouter } from "./routers/admin-experiments";
import { eventsRouter } from "./routers/events";
import { experimentsRouter } from "./routers/experiments";
import { healthRouter } from "./routers/health";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  health: healthRouter,
  experiments: experimentsRouter,
  events: eventsRouter,
  admin: createTRPCRouter({ experiments: adminExperimentsRouter, events: adminEventsRouter }),
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
