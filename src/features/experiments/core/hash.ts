/**
 * GrowthBook's deterministic hashing, bit for bit: 32-bit FNV-1a over UTF-16 code units
 * (`charCodeAt`, not UTF-8 bytes), so a subject lands in the same bucket here as in any
 * GrowthBook SDK given the same seed.
 *
 * Assignment runs on every request, so the hot path allocates nothing: seed and value are hashed
 * one after the other instead of concatenated, and v2's second pass hashes the decimal digits of
 * the first hash directly instead of building `String(hash)`.
 */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over `text`, continuing from `state`. The state stays an int32 bit pattern: `^` and
 * Math.imul only read the low 32 bits, so reading it as unsigned once at the end is enough.
 */
function fnvContinue(state: number, text: string): number {
  let next = state;
  for (let index = 0; index < text.length; index++) {
    next = Math.imul(next ^ text.charCodeAt(index), FNV_PRIME);
  }
  return next;
}

const decimalDigits = new Uint8Array(10);

/** fnv1a32(String(value)) for an unsigned 32-bit integer, without making the string. */
function fnvOfDecimal(value: number): number {
  let rest = value;
  let length = 0;
  do {
    // Division then truncation, not `%`: above 2^31 the value is a double, and a double modulo is
    // a slow library call. The quotient is below 2^31, so `| 0` truncates it exactly.
    const quotient = (rest / 10) | 0;
    decimalDigits[length++] = rest - quotient * 10;
    rest = quotient;
  } while (rest > 0);
  let state = FNV_OFFSET_BASIS;
  // Digits were collected least significant first; the string starts with the most significant.
  while (length > 0) state = Math.imul(state ^ (48 + (decimalDigits[--length] as number)), FNV_PRIME);
  return state >>> 0;
}

/** `value % divisor` for an unsigned 32-bit value, without a double modulo (see fnvOfDecimal). */
function remainderOf(value: number, divisor: number): number {
  return value - Math.floor(value / divisor) * divisor;
}

export function fnv1a32(text: string): number {
  return fnvContinue(FNV_OFFSET_BASIS, text) >>> 0;
}

/** GrowthBook's v2 hash of `value` under `seed`: a number in [0, 1) with 4 decimals. */
export function hashV2(seed: string, value: string): number {
  const first = fnvContinue(fnvContinue(FNV_OFFSET_BASIS, seed), value) >>> 0;
  return remainderOf(fnvOfDecimal(first), 10000) / 10000;
}

/**
 * A number in [0, 1) for `value` under `seed`. Version 2 hashes twice to spread short,
 * similar ids evenly; version 1 is the legacy scheme namespaces still use. Unknown versions
 * give `null` (GrowthBook skips the experiment rather than guessing).
 */
export function hash(seed: string, value: string, version: 1 | 2): number | null;
export function hash(seed: string, value: string, version: number): number | null;
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return hashV2(seed, value);
  if (version === 1)
    return remainderOf(fnvContinue(fnvContinue(FNV_OFFSET_BASIS, value), seed) >>> 0, 1000) / 1000;
  return null;
}
