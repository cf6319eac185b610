import type { AnalysisSettings, ExperimentConfig } from "@/features/experiments/core/config";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import {
  analyseResults,
  metricsToShow,
  type ResultsAnalysis,
  type VariantAggregate,
} from "@/features/experiments/core/results";
import { type Progress, planProgress, type Verdict, verdictOf } from "@/features/experiments/core/verdict";
import type { PrismaClient } from "@/generated/prisma/client";
import { refreshRollups } from "@/server/events/rollups";
import { logger } from "@/server/logger";
import { ExperimentError } from "./errors";
import type { ExperimentRecord } from "./lifecycle-service";
import { type DailyPoint, ResultsQueries, type ResultsScope } from "./results-queries";

/**
 * Above this many assignments in a phase, every figure comes from the daily rollups: the same
 * counts as the event store's, except that CUPED needs each subject's purchase history, so only
 * large tests (where its variance reduction is worth less than the speed) read them.
 */
export const ROLLUP_THRESHOLD = 250_000;

const DAY_MS = 86_400_000;

export type SeriesPoint = {
  day: string;
  variant: string;
  exposures: number;
  converters: number;
  cumulativeExposures: number;
  cumulativeConverters: number;
  cumulativeRate: number | null;
};

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
  analysis: ResultsAnalysis;
  progress: Progress;
  verdict: Verdict;
  /** The primary metric's cumulative conversion rate per variant and day. */
  series: SeriesPoint[];
  seriesMetric: string | null;
};

export type ResultsRequest = { phase?: number; population?: AnalysisSettings["population"] };

/** Control is the variant called "control", else the first one configured. */
export function controlVariantOf(config: ExperimentConfig): string {
  return (
    config.variants.find((variant) => variant.name === "control")?.name ??
    config.variants[0]?.name ??
    "control"
  );
}

/** Results per experiment and phase, from the local event store: they work with PostHog off. */
export class ResultsService {
  constructor(
    private readonly db: PrismaClient,
    private readonly getExperiment: (slug: string) => Promise<ExperimentRecord>,
    private readonly now: () => Date = () => new Date(),
    private readonly rollupThreshold = ROLLUP_THRESHOLD,
  ) {}

  async results(slug: string, request: ResultsRequest = {}): Promise<ExperimentResults> {
    const experiment = await this.getExperiment(slug);
    const phase = request.phase ?? experiment.config.phase;
    // Phases are numbered 1, 2, … by re-randomization: no query needed to list them.
    if (!Number.isInteger(phase) || phase < 1 || phase > experiment.config.phase) {
      throw new ExperimentError("PHASE_NOT_FOUND", `Experiment "${slug}" has no phase ${phase}.`);
    }
    const queries = new ResultsQueries(this.db);
    const rolled = await queries.rollupTotals(slug, phase);
    let large = rolled.reduce((sum, row) => sum + row.assigned, 0) > this.rollupThreshold;
    if (!(await queries.rollupsCurrent(slug))) {
      // Rows from before the rollups split converters by exposure would bias exposure-based
      // results: rebuild this experiment's once, and read the event store if that cannot run now.
      if (!(await this.rebuildRollups(slug))) large = false;
    } else if (!large) {
      // Large tests read the rollups as the scheduler left them (minutes old); small ones are
      // exact to the last event.
      await this.refreshRecentRollups(slug);
    }
    // One snapshot for every figure on the page. Hash joins only: the event store is read in
    // bulk, and fresh tables without statistics (PGlite never auto-analyzes) would otherwise
    // tempt the planner into a nested loop over every subject.
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRaw`set local enable_nestloop = off`;
        return this.compute(experiment, phase, request, new ResultsQueries(tx), large);
      },
      { isolationLevel: "RepeatableRead", timeout: 120_000, maxWait: 10_000 },
    );
  }

  /** Per variant aggregates, from the event store (exact) or the rollups (large tests). */
  private async aggregates(
    queries: ResultsQueries,
    scope: ResultsScope,
    settings: AnalysisSettings,
    large: boolean,
  ): Promise<Omit<VariantAggregate, "weight">[]> {
    const { slug, phase } = scope;
    if (large) {
      const totals = await queries.rollupTotals(slug, phase);
      // The population's converters, as the event store counts them: exposed subjects only by default.
      const converters = (await queries.convertersFromRollups(slug, phase)).map((entry) => ({
        variant: entry.variant,
        event: entry.event,
        converters: scope.exposedOnly ? entry.exposedConverters : entry.converters,
      }));
      return totals.map((row) => ({
        variant: row.variant,
        assigned: row.assigned,
        exposed: row.exposed,
        flagged: row.flagged,
        converters: convertersOf(converters, row.variant),
        revenue: {
          sum: scope.exposedOnly ? row.exposedRevenue : row.revenue,
          sumSquares: scope.exposedOnly ? row.exposedRevenueSquares : row.revenueSquares,
          purchasers:
            converters.find((entry) => entry.variant === row.variant && entry.event === PURCHASE_EVENT)
              ?.converters ?? 0,
        },
      }));
    }
    const assignments = await queries.assignments(slug, phase);
    const converters = await queries.converters(scope);
    const revenue = await queries.revenue(scope);
    const covariates = settings.cuped && scope.exposedOnly ? await queries.revenueWithCovariate(scope) : [];
    return assignments.map((row) => {
      const money = revenue.find((entry) => entry.variant === row.variant);
      return {
        ...row,
        converters: convertersOf(converters, row.variant),
        revenue: {
          sum: money?.sum ?? 0,
          sumSquares: money?.sumSquares ?? 0,
          purchasers: money?.purchasers ?? 0,
        },
        covariate: covariates.find((entry) => entry.variant === row.variant),
      };
    });
  }

  private async compute(
    experiment: ExperimentRecord,
    phase: number,
    request: ResultsRequest,
    queries: ResultsQueries,
    large: boolean,
  ): Promise<ExperimentResults> {
    const { slug, config } = experiment;
    const settings: AnalysisSettings = {
      ...config.analysis,
      population: request.population ?? config.analysis.population,
    };
    const phases = Array.from({ length: config.phase }, (_, index) => config.phase - index);
    const scope = { slug, phase, scope: config.scope, exposedOnly: settings.population === "exposed" };
    const source = large ? "rollups" : "events";
    const measured = await this.aggregates(queries, scope, settings, large);
    const firstAssigned = await queries.firstAssignedAt(slug, phase);

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

    const primary = metricsToShow(settings, config.conversionEvents)[0];
    const seriesMetric = primary && primary.metric !== "revenue" ? primary.metric : null;
    const daily = await queries.daily(scope, seriesMetric);
    return {
      slug,
      status: config.status,
      phase,
      phases,
      control,
      winner: config.winnerVariant,
      settings,
      source,
      startedAt: startedAt?.toISOString() ?? null,
      computedAt: this.now().toISOString(),
      analysis,
      progress: { ...progress, daysRunning },
      verdict,
      series: cumulativeSeries(daily, names),
      seriesMetric,
    };
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

  /** Today's and yesterday's rollups, so the chart includes the latest events. */
  private async refreshRecentRollups(slug: string): Promise<void> {
    try {
      await refreshRollups(this.db, new Date(this.now().getTime() - 2 * DAY_MS), slug);
    } catch (error) {
      // The chart may lag a few minutes; the table (from the event store) stays exact.
      logger.warn("rollup refresh before results failed", { error: String(error) });
    }
  }
}

function convertersOf(rows: { variant: string; event: string; converters: number }[], variant: string) {
  return Object.fromEntries(
    rows.filter((row) => row.variant === variant && row.event).map((row) => [row.event, row.converters]),
  );
}

/** Running totals per variant, one point per day with data. */
export function cumulativeSeries(points: DailyPoint[], variants: string[]): SeriesPoint[] {
  const totals = new Map(variants.map((variant) => [variant, { exposures: 0, converters: 0 }]));
  const series: SeriesPoint[] = [];
  for (const point of points) {
    const total = totals.get(point.variant) ?? { exposures: 0, converters: 0 };
    total.exposures += point.exposures;
    total.converters += point.converters;
    totals.set(point.variant, total);
    series.push({
      ...point,
      cumulativeExposures: total.exposures,
      cumulativeConverters: total.converters,
      cumulativeRate: total.exposures > 0 ? total.converters / total.exposures : null,
    });
  }
  return series;
}
