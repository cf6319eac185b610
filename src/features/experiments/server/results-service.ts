import {
  type AnalysisSettings,
  type ExperimentConfig,
  REVENUE_METRIC,
} from "@/features/experiments/core/config";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import {
  analyseResults,
  metricsToShow,
  type ResultsAnalysis,
  type VariantAggregate,
} from "@/features/experiments/core/results";
import { type Progress, planProgress, type Verdict, verdictOf } from "@/features/experiments/core/verdict";
import type { PrismaClient } from "@/generated/prisma/client";
import { refreshRecentRollups } from "@/server/events/rollup-jobs";
import { refreshRollups } from "@/server/events/rollups";
import { logger } from "@/server/logger";
import { ExperimentError } from "./errors";
import type { ExperimentRecord } from "./lifecycle-service";
import {
  DAY_MS,
  type Daily,
  dailySeries,
  fromRollups,
  fromSubjectGroups,
  type SeriesPoint,
} from "./results-folding";
import { ResultsQueries, type ResultsScope, type SubjectGroup, type SubjectPlan } from "./results-queries";
import { ROLLUP_THRESHOLD } from "./rollup-threshold";

export type ExperimentResults = {
  slug: string;
  status: ExperimentConfig["status"];
  phase: number;
  phases: number[];
  control: string;
  winner: string | null;
  settings: AnalysisSettings;
  source: "events" | "rollups";
  startedAt: string | null;
  computedAt: string;
  /**
   * With `source: "rollups"`, when they were last refreshed: the figures hold every event stored
   * before then. Null for the event store, whose figures are exact as of `computedAt`.
   */
  refreshedAt: string | null;
  analysis: ResultsAnalysis;
  progress: Progress;
  verdict: Verdict;
  /** The primary metric's cumulative conversion rate per variant and day. */
  series: SeriesPoint[];
  seriesMetric: string | null;
};

export type ResultsRequest = { phase?: number; population?: AnalysisSettings["population"] };

/** What an admin's "Refresh now" did: `refreshed` is false while another refresh was running. */
export type RollupRefreshOutcome = { slug: string; refreshed: boolean; refreshedAt: string | null };

/** Control is the variant called "control", else the first one configured. */
export function controlVariantOf(config: ExperimentConfig): string {
  return (
    config.variants.find((variant) => variant.name === "control")?.name ??
    config.variants[0]?.name ??
    "control"
  );
}

/**
 * What the event-store pass reads for these settings: the shown metrics' events and purchases
 * (revenue), the primary metric's by day (the chart), and CUPED's history where it applies.
 */
export function subjectPlanOf(
  config: ExperimentConfig,
  settings: AnalysisSettings,
): { plan: SubjectPlan; cuped: boolean } {
  const shown = metricsToShow(settings, config.conversionEvents);
  const primary = shown[0];
  const cuped = settings.cuped && settings.population === "exposed";
  const events = [
    ...new Set([...shown.map((entry) => entry.metric).filter((m) => m !== REVENUE_METRIC), PURCHASE_EVENT]),
  ];
  const seriesEvent = primary && primary.metric !== REVENUE_METRIC ? primary.metric : null;
  return { plan: { events, seriesEvent, history: cuped }, cuped };
}

export type ResultsOptions = {
  now?: () => Date;
  /** Assignments above which a test reads the rollups (RESULTS_ROLLUP_THRESHOLD). */
  rollupThreshold?: number;
  /**
   * Parts of the event-store pass run at once, each on a connection of its own
   * (RESULTS_QUERY_PARALLELISM): 1 on an embedded database, which has one connection.
   */
  parallelism?: number;
};

/** Results per experiment and phase, from the local event store: they work with PostHog off. */
export class ResultsService {
  private readonly now: () => Date;
  private readonly rollupThreshold: number;
  private readonly parallelism: number;

  constructor(
    private readonly db: PrismaClient,
    private readonly getExperiment: (slug: string) => Promise<ExperimentRecord>,
    options: ResultsOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.rollupThreshold = options.rollupThreshold ?? ROLLUP_THRESHOLD;
    this.parallelism = Math.max(1, Math.floor(options.parallelism ?? 1));
  }

  async results(slug: string, request: ResultsRequest = {}): Promise<ExperimentResults> {
    const experiment = await this.getExperiment(slug);
    const { config } = experiment;
    const phase = request.phase ?? config.phase;
    // Phases are numbered 1, 2, … by re-randomization: no query needed to list them.
    if (!Number.isInteger(phase) || phase < 1 || phase > config.phase) {
      throw new ExperimentError("PHASE_NOT_FOUND", `Experiment "${slug}" has no phase ${phase}.`);
    }
    const settings: AnalysisSettings = {
      ...config.analysis,
      population: request.population ?? config.analysis.population,
    };
    const scope = { slug, phase, scope: config.scope, exposedOnly: settings.population === "exposed" };
    const { plan, cuped } = subjectPlanOf(config, settings);
    const seriesMetric = plan.seriesEvent;
    // Large tests read the rollups as the scheduler left them (minutes old); small ones read the
    // event store, exact to the last event, chart included.
    const queries = new ResultsQueries(this.db);
    let rollups = await queries.rollups(slug, phase);
    let large = rollups.rows.reduce((sum, row) => sum + row.assignments, 0) > this.rollupThreshold;
    let refresh = large ? await queries.rollupRefresh(slug) : null;
    // Rows from before the rollups split converters by exposure would bias exposure-based results,
    // and rows from before they kept CUPED's sums (until every row is rewritten) its adjustment.
    const usable = () => rollups.current && (!cuped || Boolean(refresh?.rebuiltAt));
    if (large && !usable()) {
      // Rebuild this experiment's once, and read the event store if that cannot run now.
      if (await this.rebuildRollups(slug)) {
        rollups = await queries.rollups(slug, phase);
        refresh = await queries.rollupRefresh(slug);
      }
      large = usable();
    }

    let measured: Omit<VariantAggregate, "weight">[];
    let daily: Daily;
    if (large) {
      ({ measured, daily } = fromRollups(rollups.rows, scope.exposedOnly, seriesMetric, cuped));
    } else {
      const groups = await this.subjectGroups(scope, plan);
      ({ measured, daily } = fromSubjectGroups(groups, plan.events, scope.exposedOnly, cuped));
    }
    // Only an older phase, or a test without a start date, needs the ledger for its start.
    const firstAssigned =
      phase === config.phase && config.startedAt ? null : await queries.firstAssignedAt(slug, phase);

    const control = controlVariantOf(config);
    const names = [
      ...new Set([...config.variants.map((variant) => variant.name), ...measured.map((row) => row.variant)]),
    ];
    const empty = {
      assigned: 0,
      exposed: 0,
      flagged: 0,
      converters: {},
      revenue: { sum: 0, sumSquares: 0, purchasers: 0 },
    };
    const variants: VariantAggregate[] = names.map((name) => ({
      ...empty,
      ...measured.find((row) => row.variant === name),
      variant: name,
      weight: config.variants.find((variant) => variant.name === name)?.percentage ?? 0,
    }));

    const analysis = analyseResults({
      variants,
      control,
      conversionEvents: config.conversionEvents,
      settings,
    });
    const startedAt = phase === config.phase && config.startedAt ? new Date(config.startedAt) : firstAssigned;
    const endedAt = config.status === "concluded" && config.endedAt ? new Date(config.endedAt) : this.now();
    const daysRunning = startedAt ? Math.max(0, (endedAt.getTime() - startedAt.getTime()) / DAY_MS) : 0;
    const progress = planProgress({ analysis, settings, daysRunning: Math.max(daysRunning, 1) });
    const verdict = verdictOf(analysis, progress, config.status, settings);

    return {
      slug,
      status: config.status,
      phase,
      phases: Array.from({ length: config.phase }, (_, index) => config.phase - index),
      control,
      winner: config.winnerVariant,
      settings,
      source: large ? "rollups" : "events",
      startedAt: startedAt?.toISOString() ?? null,
      computedAt: this.now().toISOString(),
      refreshedAt: large ? (refresh?.refreshedAt.toISOString() ?? null) : null,
      analysis,
      progress: { ...progress, daysRunning },
      verdict,
      series: dailySeries(daily, names),
      seriesMetric,
    };
  }

  /**
   * An admin's "Refresh now": the scheduled refresh of recent days, for this experiment alone. It
   * does not queue behind a refresh already running, which stamps the experiment itself when done.
   */
  async refreshRollups(slug: string): Promise<RollupRefreshOutcome> {
    await this.getExperiment(slug);
    const written = await refreshRecentRollups(this.db, slug);
    const refresh = await new ResultsQueries(this.db).rollupRefresh(slug);
    return { slug, refreshed: written !== null, refreshedAt: refresh?.refreshedAt.toISOString() ?? null };
  }

  /**
   * The event-store pass, bound by the grouping of every subject's rows, itself bound by memory
   * access. So: its parts at once, each grouping the subjects a hash of their id gives it on a
   * connection (a core) of its own, and their groups simply add up (PostgreSQL's own parallel
   * workers would each pass partial sums for nearly every subject on to one leader). Within a
   * part: a small work_mem, which spills the grouping in partitions whose tables stay in cache
   * (measured faster than holding a million subjects in memory, and a page load never takes
   * hundreds of megabytes), and no sorting, which the planner would pick to fold the groups as it
   * cannot know how many subjects there are.
   */
  private async subjectGroups(scope: ResultsScope, plan: SubjectPlan): Promise<SubjectGroup[]> {
    const of = this.parallelism;
    const parts = await Promise.all(
      Array.from({ length: of }, (_, index) =>
        this.db.$transaction(
          async (tx) => {
            await tx.$queryRaw`select set_config('work_mem', '4MB', true), set_config('enable_sort', 'off', true),
              set_config('max_parallel_workers_per_gather', '0', true)`;
            return new ResultsQueries(tx).subjectGroups(scope, plan, { index, of });
          },
          { timeout: 120_000, maxWait: 10_000 },
        ),
      ),
    );
    return parts.flat();
  }

  /** A full rebuild of one experiment's rollups; false when it could not run now. */
  private async rebuildRollups(slug: string): Promise<boolean> {
    try {
      return (await refreshRollups(this.db, undefined, slug)) !== null;
    } catch (error) {
      logger.warn("rollup rebuild before results failed", { error: String(error) });
      return false;
    }
  }
}
