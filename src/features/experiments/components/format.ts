/** Dates in the console: unambiguous, compact, in UTC so every admin reads the same moment. */
export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return "—";
  const date = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return "—";
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function formatPercent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

export function formatSplit(variants: readonly { name: string; percentage: number }[]): string {
  return variants.map((variant) => `${variant.name} ${formatPercent(variant.percentage)}`).join(" · ");
}
