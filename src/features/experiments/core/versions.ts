/**
 * Semantic-version comparison by padded strings, as GrowthBook's `$v…` operators do it:
 * "v1.2.3-rc.1+build" becomes "    1-    2-    3-rc-    1"; numeric parts are left-padded so a
 * string comparison orders them numerically, and a release without a pre-release tag gets a "~"
 * (the highest printable ASCII character) so 1.0.0 sorts after 1.0.0-beta.
 */
export function paddedVersionString(input: unknown): string {
  let text: string;
  if (typeof input === "number") text = String(input);
  else if (typeof input === "string" && input) text = input;
  else text = "0";
  const parts = text.replace(/^v|\+.*$/g, "").split(/[-.]/);
  if (parts.length === 3) parts.push("~");
  return parts.map((part) => (/^[0-9]+$/.test(part) ? part.padStart(5, " ") : part)).join("-");
}

export type VersionOperator = "$veq" | "$vne" | "$vgt" | "$vgte" | "$vlt" | "$vlte";

export function compareVersions(operator: VersionOperator, actual: unknown, expected: unknown): boolean {
  const left = paddedVersionString(actual);
  const right = paddedVersionString(expected);
  switch (operator) {
    case "$veq":
      return left === right;
    case "$vne":
      return left !== right;
    case "$vgt":
      return left > right;
    case "$vgte":
      return left >= right;
    case "$vlt":
      return left < right;
    case "$vlte":
      return left <= right;
  }
}
