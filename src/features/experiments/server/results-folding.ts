import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import type { CovariateSums, VariantAggregate } from "@/features/experiments/core/results";
import { FLAGGED_KEY } from "@/server/events/rollups";
import type { RollupRow, SubjectGroup } from "./results-queries";

// The results' rows, from either source, summed into what the analysis and the chart take: per
// variant aggregates of the analysed population, and the daily figures behind the cumulative chart.
// Pure: ResultsService reads the rows, these fold them.

export const DAY_MS = 86_400_000;

export type DailyPoint = { day: string; variant: string; exposures: number; converters: number };

export type SeriesPoint = {
  day: string;
  variant: string;
  exposures: number;
  converters: number;
  cumulativeExposures: number;
  cumulativeConverters: number;
  cumulativeRate: number | null;
};

/** Per day and variant, exposures and new converters on the charted metric, where either is not zero. */
export type Daily = Map<string, { exposures: number; converters: number }>;

const dailyKey = (day: string, variant: string) => `${day}\u0000${variant}`;

function addDaily(daily: Daily, day: string, variant: string, exposures: number, converters: number) {
  if (exposures === 0 && converters === 0) return;
  const key = dailyKey(day, variant);
  const point = daily.get(key) ?? { exposures: 0, converters: 0 };
  point.exposures += exposures;
  point.converters += converters;
  daily.set(key, point);
}

/** A variant's aggregate before any row is added to it; `events` start at zero converters. */
function emptyAggregate(variant: string, events: string[]): Omit<VariantAggregate, "weight"> {
  return {
    variant,
    assigned: 0,
    exposed: 0,
    flagged: 0,
    converters: Object.fromEntries(events.map((event) => [event, 0])),
    revenue: { sum: 0, sumSquares: 0, purchasers: 0 },
  };
}

/**
 * The event store's groups (by variant, day exposed and day first converted on the charted
 * event) summed into the analysed population's aggregates and daily figures: an exposure-based
 * analysis counts exposed subjects only, and a converter from the later of the two days, when
 * they join it; the same figures the rollups keep.
 */
export function fromSubjectGroups(
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
        ...emptyAggregate(group.variant, events),
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

/**
 * The rollup rows summed the same way: per variant totals, and the rows as the daily figures.
 * CUPED (exposure-based only) takes the exposed subjects' revenue and the rows' covariate sums.
 */
export function fromRollups(
  rows: RollupRow[],
  exposedOnly: boolean,
  seriesMetric: string | null,
  cuped = false,
): { measured: Omit<VariantAggregate, "weight">[]; daily: Daily } {
  const byVariant = new Map<string, Omit<VariantAggregate, "weight"> & { covariate?: CovariateSums }>();
  const daily: Daily = new Map();
  const figure = exposedOnly ? "exposedConverters" : "converters";
  for (const row of rows) {
    let entry = byVariant.get(row.variant);
    if (!entry) {
      entry = emptyAggregate(row.variant, []);
      byVariant.set(row.variant, entry);
    }
    entry.assigned += row.assignments;
    entry.exposed += row.exposures;
    if (cuped && exposedOnly) {
      entry.covariate ??= { n: 0, sumX: 0, sumXX: 0, sumY: 0, sumYY: 0, sumXY: 0, withHistory: 0 };
      entry.covariate.sumX += row.covariateSum;
      entry.covariate.sumXX += row.covariateSquares;
      entry.covariate.sumXY += row.covariateCross;
      entry.covariate.withHistory += row.withHistory;
    }
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
  for (const entry of byVariant.values()) {
    entry.revenue.purchasers = entry.converters[PURCHASE_EVENT] ?? 0;
    // Over exposed subjects, as the event store's: n, and y's sums are their revenue's.
    if (entry.covariate)
      Object.assign(entry.covariate, {
        n: entry.exposed,
        sumY: entry.revenue.sum,
        sumYY: entry.revenue.sumSquares,
      });
  }
  return { measured: [...byVariant.values()], daily };
}

/**
 * Every day from the first on which the chart's figures move (an exposure or a new converter) to
 * the last, for every variant: the axis is time, the same from either source.
 */
export function dailySeries(daily: Daily, variants: string[]): SeriesPoint[] {
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
