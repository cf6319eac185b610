import {
  type AnalysisSettings,
  type ExperimentConfig,
  REVENUE_METRIC,
} from "@/features/experiments/core/config";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import {
  analyseResults,
  type CovariateSums,
  metricsToShow,
  type ResultsAnalysis,
  type VariantAggregate,
} from "@/features/experiments/core/results";
import { type Progress, planProgress, type Verdict, verdictOf } from "@/features/experiments/core/verdict";
import type { PrismaClient } from "@/generated/prisma/client";
import { FLAGGED_KEY, refreshRollups } from "@/server/events/rollups";
import { logger } from "@/server/logger";
import { ExperimentError } from "./errors";
import type { ExperimentRecord } from "./lifecycle-service";
import {
  ResultsQueries,
  type ResultsScope,
  type RollupRow,
  type SubjectGroup,
  type SubjectPlan,
} from "./results-queries";

/**
 * Above this many assignments in a phase, every figure comes from the daily rollups: the same
 * counts as the event store's, except that CUPED needs each subject's purchase history, so only
 * large tests (where its variance reduction is worth less than the speed) read them.
 */
export const ROLLUP_THRESHOLD = 250_000;

const DAY_MS = 86_400_000;

type DailyPoint = { day: string; variant: string; exposures: number; converters: number };

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
    const shown = metricsToShow(settings, config.conversionEvents);
    const primary = shown[0];
    const seriesMetric = primary && primary.metric !== REVENUE_METRIC ? primary.metric : null;

    // Large tests read the rollups as the scheduler left them (minutes old); small ones read the
    // event store, exact to the last event, chart included.
    const queries = new ResultsQueries(this.db);
    let rollups = await queries.rollups(slug, phase);
    let large = rollups.rows.reduce((sum, row) => sum + row.assignments, 0) > this.rollupThreshold;
    if (large && !rollups.current) {
      // Rows from before the rollups split converters by exposure would bias exposure-based
      // results: rebuild this experiment's once, and read the event store if that cannot run now.
      if (await this.rebuildRollups(slug)) rollups = await queries.rollups(slug, phase);
      large = rollups.current;
    }

    let measured: Omit<VariantAggregate, "weight">[];
    let daily: Daily;
    if (large) {
      ({ measured, daily } = fromRollups(rollups.rows, scope.exposedOnly, seriesMetric));
    } else {
      const events = [
        ...new Set([
          ...shown.map((entry) => entry.metric).filter((m) => m !== REVENUE_METRIC),
          PURCHASE_EVENT,
        ]),
      ];
      const cuped = settings.cuped && scope.exposedOnly;
      const groups = await this.subjectGroups(scope, { events, seriesEvent: seriesMetric, history: cuped });
      ({ measured, daily } = fromSubjectGroups(groups, events, scope.exposedOnly, cuped));
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
      analysis,
      progress: { ...progress, daysRunning },
      verdict,
      series: dailySeries(daily, names),
      seriesMetric,
    };
  }

  /**
   * The event-store pass, bound by the grouping of every subject's rows, itself bound by memory
   * access. So: a small work_mem, which spills the grouping in partitions whose tables stay in
   * cache (measured faster than holding a million subjects in memory, and a page load never
   * takes hundreds of megabytes); no sorting, which the planner would pick to fold the groups as
   * it cannot know how many subjects there are; no parallel workers, each of which would only
   * pass partial sums for nearly every subject on to the leader.
   */
  private subjectGroups(scope: ResultsScope, plan: SubjectPlan): Promise<SubjectGroup[]> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`select set_config('work_mem', '4MB', true), set_config('enable_sort', 'off', true),
          set_config('max_parallel_workers_per_gather', '0', true)`;
        return new ResultsQueries(tx).subjectGroups(scope, plan);
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
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

/** Per day and variant, exposures and new converters on the charted metric, where either is not zero. */
type Daily = Map<string, { exposures: number; converters: number }>;

const dailyKey = (day: string, variant: string) => `${day}\u0000${variant}`;

function addDaily(daily: Daily, day: string, variant: string, exposures: number, converters: number) {
  if (exposures === 0 && converters === 0) return;
  const key = dailyKey(day, variant);
  const point = daily.get(key) ?? { exposures: 0, converters: 0 };
  point.exposures += exposures;
  point.converters += converters;
  daily.set(key, point);
}

/**
 * The event store's groups (by variant, day exposed and day first converted on the charted
 * event) summed into the analysed population's aggregates and daily figures: an exposure-based
 * analysis counts exposed subjects only, and a converter from the later of the two days, when
 * they join it; the same figures the rollups keep.
 */
function fromSubjectGroups(
  groups: SubjectGroup[],
  events: string[],
  exposedOnly: boolean,
  cuped: boolean,
): { measured: Omit<VariantAggregate, "weight">[]; daily: Daily } {
  const byVariant = new Map<string, Omit<VariantAggregate, "weight"> & { covariate?: CovariateSums }>();
  const daily: Daily = new Map();
  const purchase = events.indexOf(PURCHASE_EVENT);
  for (const group of groups) {
    let entry = byVariant.get(group.variant);
    if (!entry) {
      entry = {
        variant: group.variant,
        assigned: 0,
        exposed: 0,
        flagged: 0,
        converters: Object.fromEntries(events.map((event) => [event, 0])),
        revenue: { sum: 0, sumSquares: 0, purchasers: 0 },
        covariate: cuped
          ? { n: 0, sumX: 0, sumXX: 0, sumY: 0, sumYY: 0, sumXY: 0, withHistory: 0 }
          : undefined,
      };
      byVariant.set(group.variant, entry);
    }
    entry.assigned += group.subjects;
    entry.flagged += group.flagged;
    if (group.exposedDay !== null) {
      entry.exposed += group.subjects;
      addDaily(daily, group.exposedDay, group.variant, group.subjects, 0);
    }
    const converted = convertedOn(group, exposedOnly);
    if (converted !== null) addDaily(daily, converted, group.variant, 0, group.subjects);
    if (exposedOnly && group.exposedDay === null) continue;
    const converters = entry.converters;
    events.forEach((event, index) => {
      converters[event] = (converters[event] ?? 0) + (group.converters[index] ?? 0);
    });
    entry.revenue.sum += group.revenue;
    entry.revenue.sumSquares += group.revenueSquares;
    entry.revenue.purchasers += group.converters[purchase] ?? 0;
    if (entry.covariate) {
      entry.covariate.n += group.subjects;
      entry.covariate.sumX += group.sumX;
      entry.covariate.sumXX += group.sumXX;
      entry.covariate.sumY += group.revenue;
      entry.covariate.sumYY += group.revenueSquares;
      entry.covariate.sumXY += group.sumXY;
      entry.covariate.withHistory += group.withHistory;
    }
  }
  return { measured: [...byVariant.values()], daily };
}

/**
 * The day a group's subjects join the charted converters: their first conversion, or for the
 * exposure-based analysis the later of that and their exposure.
 */
function convertedOn(group: SubjectGroup, exposedOnly: boolean): string | null {
  if (group.convertedDay === null) return null;
  if (!exposedOnly) return group.convertedDay;
  if (group.exposedDay === null) return null;
  return group.exposedDay.localeCompare(group.convertedDay) > 0 ? group.exposedDay : group.convertedDay;
}

/** The rollup rows summed the same way: per variant totals, and the rows as the daily figures. */
function fromRollups(
  rows: RollupRow[],
  exposedOnly: boolean,
  seriesMetric: string | null,
): { measured: Omit<VariantAggregate, "weight">[]; daily: Daily } {
  const byVariant = new Map<string, Omit<VariantAggregate, "weight">>();
  const daily: Daily = new Map();
  const figure = exposedOnly ? "exposedConverters" : "converters";
  for (const row of rows) {
    let entry = byVariant.get(row.variant);
    if (!entry) {
      entry = {
        variant: row.variant,
        assigned: 0,
        exposed: 0,
        flagged: 0,
        converters: {},
        revenue: { sum: 0, sumSquares: 0, purchasers: 0 },
      };
      byVariant.set(row.variant, entry);
    }
    entry.assigned += row.assignments;
    entry.exposed += row.exposures;
    for (const [event, value] of Object.entries(row.conversions)) {
      if (event === FLAGGED_KEY) {
        entry.flagged += Number(value) || 0;
        continue;
      }
      const figures = (value ?? {}) as Record<string, unknown>;
      entry.converters[event] = (entry.converters[event] ?? 0) + (Number(figures[figure]) || 0);
      if (event === PURCHASE_EVENT && exposedOnly) {
        entry.revenue.sum += Number(figures.exposedRevenue) || 0;
        entry.revenue.sumSquares += Number(figures.exposedRevenueSquares) || 0;
      }
    }
    if (!exposedOnly) {
      entry.revenue.sum += row.revenue;
      entry.revenue.sumSquares += row.revenueSquares;
    }
    const converters = seriesMetric === null ? undefined : row.conversions[seriesMetric];
    addDaily(
      daily,
      row.day,
      row.variant,
      row.exposures,
      Number((converters as Record<string, unknown> | undefined)?.[figure]) || 0,
    );
  }
  for (const entry of byVariant.values()) entry.revenue.purchasers = entry.converters[PURCHASE_EVENT] ?? 0;
  return { measured: [...byVariant.values()], daily };
}

/**
 * Every day from the first on which the chart's figures move (an exposure or a new converter) to
 * the last, for every variant: the axis is time, the same from either source.
 */
function dailySeries(daily: Daily, variants: string[]): SeriesPoint[] {
  const days = [...daily.keys()].map((key) => key.slice(0, key.indexOf("\u0000"))).sort();
  const first = days[0];
  const last = days.at(-1);
  if (first === undefined || last === undefined) return [];
  const points: DailyPoint[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let time = Date.parse(`${first}T00:00:00Z`); time <= end; time += DAY_MS) {
    const day = new Date(time).toISOString().slice(0, 10);
    for (const variant of variants) {
      const point = daily.get(dailyKey(day, variant));
      points.push({ day, variant, exposures: point?.exposures ?? 0, converters: point?.converters ?? 0 });
    }
  }
  return cumulativeSeries(points, variants);
}

/** Running totals per variant, point by point. */
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
