/**
 * Reproducible subject ids for benchmarks: the same seed gives the same ids on every machine, so
 * two runs (and two implementations) hash exactly the same strings.
 */

/** A 32-bit generator (splitmix32 constants); statistical quality is ample for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    return (mixed ^ (mixed >>> 16)) >>> 0;
  };
}

function hex8(word: number): string {
  return word.toString(16).padStart(8, "0");
}

/**
 * `count` ids shaped like the UUID v4 visitor ids Verdict issues (version nibble 4, variant
 * 8–b), so they have the length and alphabet real subjects have.
 */
export function seededUuids(count: number, seed = 20261124): string[] {
  const next = seededRandom(seed);
  const ids = new Array<string>(count);
  for (let index = 0; index < count; index++) {
    const a = hex8(next());
    const b = hex8(next());
    const c = hex8(next());
    const d = hex8(next());
    const version = `4${b.slice(5, 8)}`;
    const variant = `${"89ab"[Number.parseInt(c[0] as string, 16) & 3]}${c.slice(1, 4)}`;
    ids[index] = `${a}-${b.slice(0, 4)}-${version}-${variant}-${c.slice(4, 8)}${d}`;
  }
  // Concatenation leaves V8 rope strings, which whichever implementation runs first would pay to
  // flatten; a JSON round trip gives flat strings, like ids parsed from a cookie or a request body.
  return JSON.parse(JSON.stringify(ids)) as string[];
}
