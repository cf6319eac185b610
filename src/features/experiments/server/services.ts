import type { PrismaClient } from "@/generated/prisma/client";
import { getDb } from "@/server/db/client";
import { type Subscription, subscribe } from "@/server/db/notifications";
import { type DatabaseTarget, databaseTargetFromEnv } from "@/server/db/target";
import { getEnv } from "@/server/env";
import { logger } from "@/server/logger";
import { AdminQueries } from "./admin-queries";
import { AssignmentService } from "./assignment-service";
import { ExperimentCatalog } from "./catalog";
import { EventRecorder } from "./event-recorder";
import { LifecycleService } from "./lifecycle-service";
import { EXPERIMENT_CHANGED_CHANNEL, ExperimentRepository } from "./repository";
import { ResultsService } from "./results-service";
import { DEFAULT_STICKY_CACHE_ENTRIES, StickyAssignmentCache } from "./sticky-cache";
import { TargetingPreviewService } from "./targeting-preview";

export type ExperimentServices = {
  repository: ExperimentRepository;
  catalog: ExperimentCatalog;
  assignments: AssignmentService;
  lifecycle: LifecycleService;
  admin: AdminQueries;
  results: ResultsService;
  targetingPreview: TargetingPreviewService;
  events: EventRecorder;
  /** Resolves once this instance listens for other instances' changes. */
  listening: Promise<void>;
  close(): Promise<void>;
};

export type ServiceOptions = {
  random?: () => number;
  now?: () => Date;
  catalogMaxAgeMs?: number;
  /** Returning subjects' variants kept per instance (ASSIGNMENT_CACHE_ENTRIES; 0 reads every time). */
  stickyCacheEntries?: number;
  /** Assignments above which results read the rollups (RESULTS_ROLLUP_THRESHOLD). */
  rollupThreshold?: number;
  /** Connections one event-store results pass uses at once on PostgreSQL (RESULTS_QUERY_PARALLELISM). */
  resultsParallelism?: number;
};

/** Wires the feature's services around one database; used by the app singleton and by tests. */
export function createExperimentServices(
  db: PrismaClient,
  target: DatabaseTarget,
  options: ServiceOptions = {},
): ExperimentServices {
  const repository = new ExperimentRepository(db);
  const catalog = new ExperimentCatalog(() => repository.listExperiments(), {
    maxAgeMs: options.catalogMaxAgeMs,
  });
  const assignments = new AssignmentService(repository, catalog, {
    random: options.random,
    stickyCache: new StickyAssignmentCache(options.stickyCacheEntries ?? DEFAULT_STICKY_CACHE_ENTRIES),
  });
  const lifecycle = new LifecycleService(repository, () => catalog.invalidate(), options.now);

  let subscription: Subscription | undefined;
  const listening = subscribe(target, EXPERIMENT_CHANGED_CHANNEL, {
    onNotification: () => catalog.invalidate(),
    onReconnect: () => catalog.invalidate(),
    onError: (error) =>
      logger.warn("experiment change listener interrupted; reconnecting", { error: String(error) }),
  }).then((active) => {
    subscription = active;
  });
  // Without the listener this instance still works; it just learns of other instances' changes
  // only when the catalog's safety-net age runs out.
  listening.catch((error) =>
    logger.error("could not listen for experiment changes", { error: String(error) }),
  );

  const admin = new AdminQueries(repository);
  return {
    repository,
    catalog,
    assignments,
    lifecycle,
    admin,
    results: new ResultsService(db, (slug) => admin.get(slug), {
      now: options.now,
      rollupThreshold: options.rollupThreshold,
      // PGlite has one connection: parts would only queue for it.
      parallelism: target.kind === "postgres" ? options.resultsParallelism : 1,
    }),
    targetingPreview: new TargetingPreviewService(db, assignments),
    events: new EventRecorder(repository, catalog),
    listening,
    async close() {
      await listening.catch(() => {});
      await subscription?.close();
    },
  };
}

const globalForServices = globalThis as typeof globalThis & { __verdictExperiments?: ExperimentServices };

/** The process-wide services, created on first use (never at build time). */
export function getExperimentServices(): ExperimentServices {
  const env = getEnv();
  globalForServices.__verdictExperiments ??= createExperimentServices(getDb(), databaseTargetFromEnv(env), {
    stickyCacheEntries: env.ASSIGNMENT_CACHE_ENTRIES,
    rollupThreshold: env.RESULTS_ROLLUP_THRESHOLD,
    resultsParallelism: env.RESULTS_QUERY_PARALLELISM,
  });
  return globalForServices.__verdictExperiments;
}
