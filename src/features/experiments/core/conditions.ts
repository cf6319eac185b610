import { compareVersions, type VersionOperator } from "./versions";

/**
 * GrowthBook's targeting condition language (MongoDB-style), with GrowthBook's exact semantics so
 * rules written for GrowthBook behave the same here. Unknown operators fail closed (false), and so
 * does anything malformed: a condition that GrowthBook's SDK would throw on, or that has no
 * meaning (`$or` of a non-array), makes the whole condition false instead of crashing the caller.
 */
export type Condition = Record<string, unknown>;
export type Attributes = Record<string, unknown>;

/**
 * One saved group, in either of GrowthBook's payload shapes: v1 is the bare list of values; v2 is
 * `{ type: "list", attributeKey, values }` or `{ type: "condition", condition }`.
 */
export type SavedGroup =
  | unknown[]
  | { type: "list"; attributeKey?: string; values: unknown[] }
  | { type: "condition"; condition: Condition };
/**
 * Saved groups by id, each meant to be a {@link SavedGroup}. Typed as unknown on purpose: entries
 * come from stored JSON, and each is checked where it is used.
 */
export type SavedGroups = Record<string, unknown>;

/** Thrown inside the evaluator for a condition with no meaning; caught once, at the top. */
class MalformedCondition extends Error {}

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
  if (caseInsensitive) {
    // Strict equality, not includes(): GrowthBook's case-insensitive path compares with ===.
    const matches = (element: unknown) =>
      expected.some((candidate) => foldCase(element) === foldCase(candidate));
    return Array.isArray(actual) ? actual.some(matches) : matches(actual);
  }
  if (Array.isArray(actual)) return actual.some((element) => expected.includes(element));
  return expected.includes(actual);
}

/**
 * The values of a saved group for `$inGroup` / `$notInGroup`: a v1 list, or a v2 list's values.
 * An unknown id is an empty list (as it always was in GrowthBook); a condition group or a
 * malformed entry is null, which matches nobody either way: an empty list there would let
 * `$notInGroup` pass everyone.
 */
function savedGroupValues(entry: unknown): unknown[] | null {
  if (entry === undefined) return [];
  if (Array.isArray(entry)) return entry;
  if (isRecord(entry) && entry.type === "list") return Array.isArray(entry.values) ? entry.values : null;
  return null;
}

type Context = { savedGroups: SavedGroups; visited: ReadonlySet<string> };

/** A top-level `$savedGroup: { id, attributeKey? }` reference; anything unrecognised matches nobody. */
function evalSavedGroup(attributes: unknown, reference: unknown, context: Context): boolean {
  if (!isRecord(reference)) return false;
  const { id, attributeKey } = reference;
  // `visited` stops a condition group that refers back to itself.
  if (typeof id !== "string" || context.visited.has(id)) return false;
  if (attributeKey !== undefined && typeof attributeKey !== "string") return false;
  const entry = context.savedGroups[id];
  if (!isRecord(entry)) return false;
  const next: Context = { ...context, visited: new Set(context.visited).add(id) };
  if (entry.type === "list") {
    const key = attributeKey ?? entry.attributeKey;
    if (typeof key !== "string" || !Array.isArray(entry.values)) return false;
    return isIn(getPath(attributes, key), entry.values);
  }
  if (entry.type === "condition") {
    if (!entry.condition || typeof entry.condition !== "object") return false;
    return evalConditionInternal(entry.condition, attributes, next);
  }
  return false;
}

function conditionList(conditions: unknown): unknown[] {
  if (!Array.isArray(conditions)) throw new MalformedCondition("$or, $nor and $and take an array");
  return conditions;
}

function evalOr(attributes: unknown, conditions: unknown, context: Context): boolean {
  const list = conditionList(conditions);
  if (list.length === 0) return true;
  return list.some((condition) => evalConditionInternal(condition, attributes, context));
}

function evalAnd(attributes: unknown, conditions: unknown, context: Context): boolean {
  return conditionList(conditions).every((condition) =>
    evalConditionInternal(condition, attributes, context),
  );
}

function elemMatch(actual: unknown, expected: unknown, context: Context): boolean {
  if (!Array.isArray(actual)) return false;
  const matches = isOperatorObject(expected)
    ? (element: unknown) => evalConditionValue(expected, element, context)
    : (element: unknown) => evalConditionInternal(expected, element, context);
  // GrowthBook skips null and undefined elements; falsy values (0, "", false) are still tested.
  return actual.some((element) => element !== null && element !== undefined && matches(element));
}

function containsAll(
  actual: unknown,
  expected: unknown,
  context: Context,
  caseInsensitive: boolean,
): boolean {
  if (!Array.isArray(actual) || !Array.isArray(expected)) return false;
  return expected.every((wanted) =>
    actual.some((element) => evalConditionValue(wanted, element, context, caseInsensitive)),
  );
}

function regexTest(actual: unknown, expected: unknown, flags: string): boolean {
  if (typeof expected !== "string") return false;
  const pattern = cachedRegex(expected, flags);
  return pattern ? pattern.test(String(actual)) : false;
}

function evalOperator(operator: string, actual: unknown, expected: unknown, context: Context): boolean {
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
    case "$inGroup": {
      const values = savedGroupValues(context.savedGroups[expected as string]);
      return values !== null && isIn(actual, values);
    }
    case "$notInGroup": {
      const values = savedGroupValues(context.savedGroups[expected as string]);
      return values !== null && !isIn(actual, values);
    }
    case "$not":
      return !evalConditionValue(expected, actual, context);
    case "$size":
      return Array.isArray(actual) && evalConditionValue(expected, actual.length, context);
    case "$elemMatch":
      return elemMatch(actual, expected, context);
    case "$all":
      return containsAll(actual, expected, context, false);
    case "$alli":
      return containsAll(actual, expected, context, true);
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

function evalConditionValue(
  condition: unknown,
  value: unknown,
  context: Context,
  caseInsensitive = false,
): boolean {
  if (typeof condition === "string") {
    return caseInsensitive
      ? String(value).toLowerCase() === condition.toLowerCase()
      : String(value) === condition;
  }
  if (typeof condition === "number") return Number(value) === condition;
  // Only null is "no value" here: an attribute present but undefined counts as falsy, as in GrowthBook.
  if (typeof condition === "boolean") return value !== null && Boolean(value) === condition;
  if (condition === null) return value === null;
  if (Array.isArray(condition) || !isOperatorObject(condition)) {
    return JSON.stringify(value) === JSON.stringify(condition);
  }
  for (const [operator, expected] of Object.entries(condition)) {
    if (!evalOperator(operator, value, expected, context)) return false;
  }
  return true;
}

function evalConditionInternal(condition: unknown, attributes: unknown, context: Context): boolean {
  if (!isRecord(condition)) throw new MalformedCondition("a condition is an object");
  for (const [key, value] of Object.entries(condition)) {
    if (key === "$or") {
      if (!evalOr(attributes, value, context)) return false;
    } else if (key === "$nor") {
      if (evalOr(attributes, value, context)) return false;
    } else if (key === "$and") {
      if (!evalAnd(attributes, value, context)) return false;
    } else if (key === "$not") {
      if (evalConditionInternal(value, attributes, context)) return false;
    } else if (key === "$savedGroup") {
      if (!evalSavedGroup(attributes, value, context)) return false;
    } else if (!evalConditionValue(value, getPath(attributes, key), context)) {
      return false;
    }
  }
  return true;
}

/**
 * Whether `attributes` satisfy `condition`; an empty condition matches everyone. Never throws: a
 * malformed condition, saved group or attribute value (anything that would throw while being
 * evaluated, including nesting too deep for the stack) is simply not a match.
 */
export function evalCondition(condition: object, attributes: object, savedGroups: object = {}): boolean {
  try {
    return evalConditionInternal(condition, attributes, {
      savedGroups: (savedGroups ?? {}) as SavedGroups,
      visited: new Set(),
    });
  } catch {
    return false;
  }
}
