/**
 * QA overrides: `?verdict_force=<slug>:<variant>` (several separated by commas) shows a variant in
 * this browser without writing an assignment or an exposure.
 */
export const FORCE_PARAM = "verdict_force";

export type ForcedVariants = Record<string, string>;

const PAIR = /^([a-z0-9]+(?:-[a-z0-9]+)*):([A-Za-z0-9_-]{1,64})$/;

export function parseForcedVariants(value: string | null | undefined): ForcedVariants {
  const forced: ForcedVariants = {};
  if (!value) return forced;
  for (const pair of value.split(",").slice(0, 20)) {
    const match = PAIR.exec(pair.trim());
    if (match?.[1] && match[2]) forced[match[1]] = match[2];
  }
  return forced;
}
