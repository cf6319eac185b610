/**
 * GrowthBook's deterministic hashing, bit for bit: 32-bit FNV-1a over UTF-16 code units
 * (`charCodeAt`, not UTF-8 bytes), so a subject lands in the same bucket here as in any
 * GrowthBook SDK given the same seed.
 */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let state = FNV_OFFSET_BASIS;
  for (let index = 0; index < text.length; index++) {
    state ^= text.charCodeAt(index);
    // Math.imul keeps the multiplication in 32 bits; `>>> 0` reads the result as unsigned.
    state = Math.imul(state, FNV_PRIME) >>> 0;
  }
  return state >>> 0;
}

/**
 * A number in [0, 1) for `value` under `seed`. Version 2 hashes twice to spread short,
 * similar ids evenly; version 1 is the legacy scheme namespaces still use. Unknown versions
 * give `null` (GrowthBook skips the experiment rather than guessing).
 */
export function hash(seed: string, value: string, version: 1 | 2): number | null;
export function hash(seed: string, value: string, version: number): number | null;
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}
