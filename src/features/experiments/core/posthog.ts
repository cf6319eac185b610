import { sha1Words } from "./sha1";

/**
 * PostHog's feature-flag bucketing, so an experiment in "posthog" hashing mode puts every subject
 * in the variant a PostHog multivariate flag with the same key and split would.
 */

/** PostHog's scale 0xfffffffffffffff, which as a double is exactly 2^60; it divides with doubles, and so do we. */
const LONG_SCALE = 2 ** 60;

/**
 * PostHog's hash of `<first><second><third><fourth>` (parts are not concatenated, to save an
 * allocation): the first 15 hex digits of its SHA-1 over LONG_SCALE, a number in [0, 1].
 */
function posthogHashOfParts(first: string, second: string, third: string, fourth: string): number {
  const digest = sha1Words(first, second, third, fourth);
  // The 15 hex digits are the 32 bits of the first word and the top 28 of the second. PostHog
  // reads them with parseInt, which rounds the 60-bit integer to the nearest double (ties to
  // even); one double addition of the two exact halves rounds the exact sum the same way.
  const leading = (digest[0] as number) >>> 0;
  const following = (digest[1] as number) >>> 4;
  return (leading * 2 ** 28 + following) / LONG_SCALE;
}

/**
 * The hash PostHog computes for `<prefix><distinctId><salt>`, a number in [0, 1]. Flags use the
 * prefix `<key>.`; holdouts use `holdout-<id>`.
 */
export function posthogHashWithPrefix(prefix: string, distinctId: string, salt = ""): number {
  return posthogHashOfParts(prefix, distinctId, salt, "");
}

export function posthogHash(key: string, distinctId: string, salt = ""): number {
  return posthogHashOfParts(key, ".", distinctId, salt);
}

/** Whether a subject is inside a flag's rollout; PostHog includes the boundary (`hash <= rollout`). */
export function posthogInRollout(key: string, distinctId: string, rolloutPercentage: number): boolean {
  return posthogHash(key, distinctId) <= rolloutPercentage / 100;
}

/**
 * The variant of a multivariate flag: cumulative percentage ranges [min, max) over the hash with
 * salt "variant", in the order given. `null` when the percentages do not cover the hash.
 */
export function posthogVariant(
  key: string,
  distinctId: string,
  variants: readonly { name: string; percentage: number }[],
): string | null {
  const value = posthogHash(key, distinctId, "variant");
  let valueMin = 0;
  for (const variant of variants) {
    const valueMax = valueMin + variant.percentage / 100;
    if (value >= valueMin && value < valueMax) return variant.name;
    valueMin = valueMax;
  }
  return null;
}
