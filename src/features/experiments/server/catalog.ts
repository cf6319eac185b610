import {
  type ExperimentConfig,
  InvalidExperimentConfigError,
  parseExperimentConfig,
} from "@/features/experiments/core/config";
import type { StoredExperiment } from "./repository";

export type CatalogExperiment = {
  slug: string;
  enabled: boolean;
  description: string;
  version: number;
  /** Tells a recreated experiment from an earlier one of the same slug (see sticky-cache.ts). */
  createdAt: Date;
  updatedAt: Date;
  config: ExperimentConfig;
};

/** A stored experiment whose metadata does not parse: kept so callers can name it in errors. */
export type BrokenExperiment = { slug: string; error: InvalidExperimentConfigError };

export type CatalogSnapshot = {
  experiments: Map<string, CatalogExperiment>;
  broken: Map<string, BrokenExperiment>;
};

/**
 * Every experiment's configuration, cached per process. Invalidated whenever any experiment
 * changes (here or, through LISTEN/NOTIFY, on another instance); `maxAgeMs` is only a safety net
 * for changes made behind the app's back (a manual SQL edit). Experiments are few and small, so
 * the whole set is reloaded in one query rather than tracked one by one.
 */
export class ExperimentCatalog {
  private snapshot: CatalogSnapshot | undefined;
  private loadedAt = 0;
  private inflight: Promise<CatalogSnapshot> | undefined;
  private generation = 0;

  constructor(
    private readonly load: () => Promise<StoredExperiment[]>,
    private readonly options: { maxAgeMs?: number; now?: () => number } = {},
  ) {}

  async getSnapshot(): Promise<CatalogSnapshot> {
    const now = this.options.now ?? Date.now;
    if (this.snapshot && now() - this.loadedAt < (this.options.maxAgeMs ?? 30_000)) return this.snapshot;
    this.inflight ??= this.reload();
    return this.inflight;
  }

  /** Drops the cache; requests from now on see the database as it is after the change. */
  invalidate(): void {
    this.generation += 1;
    this.snapshot = undefined;
    this.inflight = undefined;
  }

  private async reload(): Promise<CatalogSnapshot> {
    const generation = this.generation;
    try {
      const rows = await this.load();
      const snapshot = buildSnapshot(rows);
      // A change that landed while loading makes this result stale: hand it to the callers that
      // asked before the change, but do not keep it.
      if (generation === this.generation) {
        this.snapshot = snapshot;
        this.loadedAt = (this.options.now ?? Date.now)();
      }
      return snapshot;
    } finally {
      if (generation === this.generation) this.inflight = undefined;
    }
  }
}

function buildSnapshot(rows: StoredExperiment[]): CatalogSnapshot {
  const experiments = new Map<string, CatalogExperiment>();
  const broken = new Map<string, BrokenExperiment>();
  for (const row of rows) {
    try {
      const config = parseExperimentConfig(row.slug, row.metadata);
      experiments.set(row.slug, {
        slug: row.slug,
        enabled: row.enabled,
        description: row.description,
        version: row.version,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        config,
      });
    } catch (error) {
      if (!(error instanceof InvalidExperimentConfigError)) throw error;
      broken.set(row.slug, { slug: row.slug, error });
    }
  }
  return { experiments, broken };
}
