/**
 * Globally adaptive Gauss–Kronrod quadrature (7-point Gauss, 15-point Kronrod), the QUADPACK QAG
 * scheme (Piessens et al. 1983): the panel with the largest error estimate is halved until the
 * summed estimate meets the tolerance. Used for the exact Bayesian figures (probability to be
 * best, expected loss), whose integrands are smooth but can be very narrow when n is large;
 * callers pass breakpoints (posterior quantiles) so narrow peaks are never stepped over.
 * Vector-valued: several integrals of the same region share every evaluation of the integrand
 * (the k arms' posterior cdfs are computed once per node, not once per integral).
 */

/**
 * QUADPACK's qk15 constants, rounded to the nearest double. Kronrod abscissae on [−1, 1],
 * non-negative half; odd indices are the Gauss points.
 */
const KRONROD_NODES = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911,
  0.4058451513773972, 0.20778495500789848, 0,
];
const KRONROD_WEIGHTS = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679,
  0.19035057806478542, 0.20443294007529889, 0.20948214108472782,
];
/** Weights of the 7-point Gauss rule at KRONROD_NODES[1], [3], [5] and [7]. */
const GAUSS_WEIGHTS = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];
const EPSILON = Number.EPSILON;

type Panel = { a: number; b: number; values: number[]; errors: number[] };

/** QUADPACK's error estimate for one component: |K15 − G7| grossly overstates the error of K15 on smooth panels. */
function scaledError(
  kronrod: number,
  gauss: number,
  spread: number,
  absolute: number,
  halfLength: number,
): number {
  const scale = Math.abs(halfLength);
  let error = Math.abs((kronrod - gauss) * halfLength);
  const spreadScaled = spread * scale;
  if (spreadScaled !== 0 && error !== 0)
    error = spreadScaled * Math.min(1, ((200 * error) / spreadScaled) ** 1.5);
  const absoluteScaled = absolute * scale;
  if (absoluteScaled > Number.MIN_VALUE / (50 * EPSILON))
    error = Math.max(50 * EPSILON * absoluteScaled, error);
  return error;
}

function kronrod15(f: (x: number) => number[], a: number, b: number): Panel {
  const center = (a + b) / 2;
  const halfLength = (b - a) / 2;
  // Node order: center, then the pairs center ∓ offset_i for i = 0…6.
  const samples = [f(center)];
  for (let i = 0; i < 7; i++) {
    const offset = halfLength * (KRONROD_NODES[i] as number);
    samples.push(f(center - offset), f(center + offset));
  }
  const components = (samples[0] as number[]).length;
  const values: number[] = [];
  const errors: number[] = [];
  for (let c = 0; c < components; c++) {
    const at = (node: number) => (samples[node] as number[])[c] as number;
    let kronrod = at(0) * (KRONROD_WEIGHTS[7] as number);
    let gauss = at(0) * (GAUSS_WEIGHTS[3] as number);
    let absolute = Math.abs(kronrod);
    for (let i = 0; i < 7; i++) {
      const weight = KRONROD_WEIGHTS[i] as number;
      const pair = at(2 * i + 1) + at(2 * i + 2);
      kronrod += weight * pair;
      absolute += weight * (Math.abs(at(2 * i + 1)) + Math.abs(at(2 * i + 2)));
      if (i % 2 === 1) gauss += (GAUSS_WEIGHTS[(i - 1) / 2] as number) * pair;
    }
    const mean = kronrod / 2;
    let spread = (KRONROD_WEIGHTS[7] as number) * Math.abs(at(0) - mean);
    for (let i = 0; i < 7; i++) {
      spread +=
        (KRONROD_WEIGHTS[i] as number) * (Math.abs(at(2 * i + 1) - mean) + Math.abs(at(2 * i + 2) - mean));
    }
    values.push(kronrod * halfLength);
    errors.push(scaledError(kronrod, gauss, spread, absolute, halfLength));
  }
  return { a, b, values, errors };
}

export type IntegrateOptions = {
  /** Points inside (a, b) where the integrand changes fast; each starts its own panel. */
  breakpoints?: number[];
  /** Per component: each integral must meet max(absolute, relative·|integral|). */
  absoluteTolerance?: number;
  relativeTolerance?: number;
  maxPanels?: number;
};

const sumOf = (panels: Panel[], component: number) =>
  panels.reduce((sum, panel) => sum + (panel.values[component] as number), 0);

/**
 * ∫_a^b f(x) dx for a vector-valued f (every call returns the same number of components), by
 * adaptive Gauss–Kronrod; a ≤ b, f finite on (a, b). The panel refined next is the one whose
 * error, relative to each component's tolerance, is largest.
 */
export function integrateMany(
  f: (x: number) => number[],
  a: number,
  b: number,
  components: number,
  options: IntegrateOptions = {},
): number[] {
  if (!(b > a)) return new Array<number>(components).fill(0);
  const absoluteTolerance = options.absoluteTolerance ?? 1e-14;
  const relativeTolerance = options.relativeTolerance ?? 1e-12;
  const maxPanels = options.maxPanels ?? 4000;
  const cuts = [a, ...(options.breakpoints ?? []).filter((x) => x > a && x < b), b].sort((x, y) => x - y);
  const panels: Panel[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const left = cuts[i] as number;
    const right = cuts[i + 1] as number;
    if (right > left) panels.push(kronrod15(f, left, right));
  }
  const totals = Array.from({ length: components }, (_, c) => sumOf(panels, c));
  const errorTotals = Array.from({ length: components }, (_, c) =>
    panels.reduce((sum, panel) => sum + (panel.errors[c] as number), 0),
  );
  while (panels.length < maxPanels) {
    const tolerances = totals.map((total) =>
      Math.max(absoluteTolerance, relativeTolerance * Math.abs(total)),
    );
    if (errorTotals.every((error, c) => error <= (tolerances[c] as number))) break;
    let worst = 0;
    let worstScore = -1;
    panels.forEach((panel, i) => {
      const score = Math.max(...panel.errors.map((error, c) => error / (tolerances[c] as number)));
      if (score > worstScore) {
        worst = i;
        worstScore = score;
      }
    });
    const panel = panels[worst] as Panel;
    const middle = (panel.a + panel.b) / 2;
    if (!(middle > panel.a && middle < panel.b)) {
      // As narrow as floating point allows: its estimate cannot improve, so stop counting its error.
      panel.errors.forEach((error, c) => {
        errorTotals[c] = (errorTotals[c] as number) - error;
      });
      panel.errors = panel.errors.map(() => 0);
      continue;
    }
    const left = kronrod15(f, panel.a, middle);
    const right = kronrod15(f, middle, panel.b);
    panels[worst] = left;
    panels.push(right);
    for (let c = 0; c < components; c++) {
      const change = (left.values[c] as number) + (right.values[c] as number) - (panel.values[c] as number);
      totals[c] = (totals[c] as number) + change;
      errorTotals[c] =
        (errorTotals[c] as number) +
        (left.errors[c] as number) +
        (right.errors[c] as number) -
        (panel.errors[c] as number);
    }
  }
  // Re-sum at the end: the running totals accumulate rounding from many small updates.
  return Array.from({ length: components }, (_, c) => sumOf(panels, c));
}

/** ∫_a^b f(x) dx by adaptive Gauss–Kronrod; a ≤ b, f finite on (a, b). */
export function integrate(
  f: (x: number) => number,
  a: number,
  b: number,
  options: IntegrateOptions = {},
): number {
  return integrateMany((x) => [f(x)], a, b, 1, options)[0] as number;
}
