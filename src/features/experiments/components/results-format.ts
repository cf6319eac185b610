import type { Interval } from "@/features/experiments/core/stats";

/** Reasons a figure is missing, in words (never NaN on the page). */
export const UNDEFINED_REASONS: Record<string, string> = {
  "control-rate-zero": "undefined: control has no conversions",
  "control-mean-zero": "undefined: control's mean is zero",
  "empty-arm": "undefined: an arm has no participants",
  "too-little-data": "too little data",
};

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${(value * 100).toFixed(digits)}%`;
}

export function signedPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = `${Math.abs(value * 100).toFixed(digits)}%`;
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

export function interval(value: Interval | null | undefined, digits = 1): string {
  if (!value) return "—";
  return `[${signedPercent(value[0], digits)}, ${signedPercent(value[1], digits)}]`;
}

export function money(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function pValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (value < 0.0001) return "<0.0001";
  return value.toFixed(4);
}

/** A probability people read: never a false certainty of 0% or 100%. */
export function chance(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const rounded = Math.round(value * 1000) / 10;
  if (rounded >= 100) return ">99.9%";
  if (rounded <= 0) return "<0.1%";
  return `${rounded.toFixed(1)}%`;
}

/** Distinct, colour-blind-friendly series colours (Okabe–Ito), control first. */
export const SERIES_COLOURS = ["#555555", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"];

export function metricTitle(metric: string, kind: "conversion" | "revenue"): string {
  return kind === "revenue" ? "Revenue per participant" : `${metric.replaceAll("_", " ")} (conversion)`;
}

/** How long before `computedAt` something happened, in words ("4 minutes"), never negative. */
export function describeAge(since: string, computedAt: string): string {
  const minutes = Math.max(0, Math.floor((Date.parse(computedAt) - Date.parse(since)) / 60_000));
  if (minutes < 1) return "under a minute";
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}
