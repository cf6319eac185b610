import { compareVersions, type VersionOperator } from "./versions";

/**
 * GrowthBook's targeting condition language (MongoDB-style), with GrowthBook's exact semantics so
 * rules written for GrowthBook behave the same here. Unknown operators fail closed (false).
 */
export type Condition = Record<string, unknown>;
export type Attributes = Record<string, unknown>;
/** Saved groups: a group id to the list of attribute values that belong to it. */
export type SavedGroups = Record<string, unknown[]>;

const regexCache = new Map<string, RegExp | null>();

function cachedRegex(source: string, flags: string): RegExp | null {
  const cacheKey = `${flags}/${source}`;
  if (!regexCache.has(cacheKey)) {
    let compiled: RegExp | null = null;
    try {
      compiled = new RegExp(source, flags);
    } catch {
      compiled = null;
    }
    // Bounded so hostile conditions cannot grow memory without limit.
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(cacheKey, compiled);
  }
  return regexCache.get(cacheKey) ?? null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a dotted path ("father.age"); a missing step gives null, as GrowthBook does. */
export function getPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const part of path.split(".")) {
    if (current && typeof current === "object" && part in current) {
      current = (current as Record<string, unknown>)[part];
    } else {
      return null;
    }
  }
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  return ["string", "number", "boolean", "object", "undefined"].includes(type) ? type : "unknown";
}

/** An object whose keys are all operators ("$…"), as opposed to a literal object to compare. */
function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith("$"));
}

function foldCase(value: unknown): unknown {
  return typeof value === "string" ? value.toLowerCase() : value;
}

function isIn(actual: unknown, expected: unknown[], caseInsensitive = false): boolean {
  const candidates = caseInsensitive ? expected.map(foldCase) : expected;
  if (Array.isArray(actual)) {
    return actual.some((element) => candidates.includes(caseInsensitive ? foldCase(element) : element));
  }
  return candidates.includes(caseInsensitive ? foldCase(actual) : actual);
}

function evalOr(attributes: unknown, conditions: unknown, savedGroups: SavedGroups): boolean {
  if (!Array.isArray(conditions) || conditions.length === 0) return true;
  return conditions.some((condition) => evalConditionInternal(condition, attributes, savedGroups));
}

function evalAnd(attributes: unknown, conditions: unknown, savedGroups: SavedGroups): boolean {
  if (!Array.isArray(conditions)) return true;
  return conditions.every((condition) => evalConditionInternal(condition, attributes, savedGroups));
}

function elemMatch(actual: unknown, expected: unknown, savedGroups: SavedGroups): boolean {
  if (!Array.isArray(actual)) return false;
  const matches = isOperatorObject(expected)
    ? (element: unknown) => evalConditionValue(expected, element, savedGroups)
    : (element: unknown) => evalConditionInternal(expected, element, savedGroups);
  return actual.some(matches);
}

function containsAll(
  actual: unknown,
  expected: unknown,
  savedGroups: SavedGroups,
  caseInsensitive: boolean,
): boolean {
  if (!Array.isArray(actual) || !Array.isArray(expected)) return false;
  return expected.every((wanted) =>
    actual.some((element) =>
      caseInsensitive
        ? evalConditionValue(foldCase(wanted), foldCase(element), savedGroups)
        : evalConditionValue(wanted, element, savedGroups),
    ),
  );
}

function regexTest(actual: unknown, expected: unknown, flags: string): boolean {
  if (typeof expected !== "string") return false;
  const pattern = cachedRegex(expected, flags);
  return pattern ? pattern.test(String(actual)) : false;
}

function evalOperator(
  operator: string,
  actual: unknown,
  expected: unknown,
  savedGroups: SavedGroups,
): boolean {
  switch (operator) {
    case "$veq":
    case "$vne":
    case "$vgt":
    case "$vgte":
    case "$vlt":
    case "$vlte":
      return compareVersions(operator as VersionOperator, actual, expected);
    case "$eq":
      return actual === expected;
    case "$ne":
      return actual !== expected;
    // Loose JavaScript comparison on purpose: GrowthBook compares mixed types this way.
    case "$lt":
      return (actual as number) < (expected as number);
    case "$lte":
      return (actual as number) <= (expected as number);
    case "$gt":
      return (actual as number) > (expected as number);
    case "$gte":
      return (actual as number) >= (expected as number);
    case "$exists":
      return expected ? actual !== null && actual !== undefined : actual === null || actual === undefined;
    case "$in":
      return Array.isArray(expected) && isIn(actual, expected);
    case "$ini":
      return Array.isArray(expected) && isIn(actual, expected, true);
    case "$nin":
      return Array.isArray(expected) && !isIn(actual, expected);
    case "$nini":
      return Array.isArray(expected) && !isIn(actual, expected, true);
    case "$inGroup":
      return isIn(actual, savedGroups[String(expected)] ?? []);
    case "$notInGroup":
      return !isIn(actual, savedGroups[String(expected)] ?? []);
    case "$not":
      return !evalConditionValue(expected, actual, savedGroups);
    case "$size":
      return Array.isArray(actual) && evalConditionValue(expected, actual.length, savedGroups);
    case "$elemMatch":
      return elemMatch(actual, expected, savedGroups);
    case "$all":
      return containsAll(actual, expected, savedGroups, false);
    case "$alli":
      return containsAll(actual, expected, savedGroups, true);
    case "$regex":
      return regexTest(actual, expected, "");
    case "$regexi":
      return regexTest(actual, expected, "i");
    case "$type":
      return typeName(actual) === expected;
    default:
      return false;
  }
}

function evalConditionValue(condition: unknown, value: unknown, savedGroups: SavedGroups): boolean {
  if (typeof condition === "string") return String(value) === condition;
  if (typeof condition === "number") return Number(value) === condition;
  if (typeof condition === "boolean")
    return value !== null && value !== undefined && Boolean(value) === condition;
  if (condition === null) return value === null;
  if (Array.isArray(condition) || !isOperatorObject(condition)) {
    return JSON.stringify(value) === JSON.stringify(condition);
  }
  for (const [operator, expected] of Object.entries(condition)) {
    if (!evalOperator(operator, value, expected, savedGroups)) return false;
  }
  return true;
}

function evalConditionInternal(condition: unknown, attributes: unknown, savedGroups: SavedGroups): boolean {
  if (!isRecord(condition)) return false;
  for (const [key, value] of Object.entries(condition)) {
    if (key === "$or") {
      if (!evalOr(attributes, value, savedGroups)) return false;
    } else if (key === "$nor") {
      if (evalOr(attributes, value, savedGroups)) return false;
    } else if (key === "$and") {
      if (!evalAnd(attributes, value, savedGroups)) return false;
    } else if (key === "$not") {
      if (evalConditionInternal(value, attributes, savedGroups)) return false;
    } else if (!evalConditionValue(value, getPath(attributes, key), savedGroups)) {
      return false;
    }
  }
  return true;
}

/** Whether `attributes` satisfy `condition`; an empty condition matches everyone. */
export function evalCondition(condition: object, attributes: object, savedGroups: object = {}): boolean {
  return evalConditionInternal(condition, attributes, savedGroups as SavedGroups);
}
