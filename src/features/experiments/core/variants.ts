/** Checks an experiment's variants and reports every problem at once, for forms and the API. */
export type VariantsCheck = { valid: boolean; problems: string[] };

export const MIN_VARIANTS = 2;
export const MAX_VARIANTS = 20;
export const CONTROL_VARIANT = "control";
const PERCENTAGE_TOLERANCE = 0.01;

export function validateVariants(variants: readonly { name: string; percentage: number }[]): VariantsCheck {
  const problems: string[] = [];
  if (variants.length < MIN_VARIANTS || variants.length > MAX_VARIANTS) {
    problems.push(`An experiment has ${MIN_VARIANTS} to ${MAX_VARIANTS} variants (got ${variants.length}).`);
  }
  const names = variants.map((variant) => variant.name.trim());
  if (names.some((name) => name === "")) problems.push("Every variant needs a name.");
  const duplicates = [
    ...new Set(names.filter((name, index) => name !== "" && names.indexOf(name) !== index)),
  ];
  if (duplicates.length) problems.push(`Variant names must be unique (repeated: ${duplicates.join(", ")}).`);
  const controls = names.filter((name) => name === CONTROL_VARIANT).length;
  if (controls !== 1) problems.push(`Exactly one variant is named "${CONTROL_VARIANT}" (found ${controls}).`);
  const negative = variants.filter((variant) => !(variant.percentage >= 0));
  if (negative.length) {
    problems.push(
      `Percentages cannot be negative (${negative.map((variant) => variant.name || "unnamed").join(", ")}).`,
    );
  }
  const total = variants.reduce((sum, variant) => sum + variant.percentage, 0);
  if (!(Math.abs(total - 100) <= PERCENTAGE_TOLERANCE)) {
    problems.push(`Percentages must add up to 100 (they add up to ${Number(total.toFixed(4))}).`);
  }
  return { valid: problems.length === 0, problems };
}
