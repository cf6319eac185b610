import type { ServedAssignment } from "@/features/experiments/server/request-assignments";

/**
 * Assignments remembered per subject in localStorage, so a later visit renders at once while the
 * server is asked again in the background. An entry is only trusted for the experiment version
 * it was served under; concluded or changed experiments are replaced by the fresh answer.
 */
const PREFIX = "verdict:assignments:v1:";
/** The subject of the last answer this browser was given: a signed-in user's, or the visitor's. */
const LAST_SUBJECT_KEY = "verdict:assignments:v1:last-subject";
const MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

type Stored = { savedAt: number; assignments: Record<string, ServedAssignment> };

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}

function readCachedAssignments(
  subjectKey: string,
  now = Date.now(),
): Record<string, ServedAssignment> | null {
  const raw = storage()?.getItem(PREFIX + subjectKey);
  if (!raw) return null;
  try {
    const stored = JSON.parse(raw) as Stored;
    if (now - stored.savedAt > MAX_AGE_MS) return null;
    return stored.assignments;
  } catch {
    return null;
  }
}

/**
 * What this browser was last served, for whoever it was served to (so a signed-in user's page
 * renders from the cache too), with that subject's key.
 */
export function readLastCachedAssignments(
  visitorKey: string | null,
  now = Date.now(),
): { subjectKey: string; assignments: Record<string, ServedAssignment> } | null {
  // Entries written before the pointer existed are found under the visitor's own key.
  const subjectKey = storage()?.getItem(LAST_SUBJECT_KEY) ?? visitorKey;
  if (!subjectKey) return null;
  const assignments = readCachedAssignments(subjectKey, now);
  return assignments ? { subjectKey, assignments } : null;
}

/**
 * Stores the server's answer, which replaces the whole entry: experiments that changed version or
 * concluded since are dropped with it. Forced previews and concluded tests are not remembered.
 */
export function writeCachedAssignments(
  subjectKey: string,
  assignments: Record<string, ServedAssignment>,
  now = Date.now(),
) {
  const kept = Object.fromEntries(
    Object.entries(assignments).filter(
      ([, entry]) => entry.reason !== "forced" && entry.reason !== "concluded",
    ),
  );
  try {
    const store = storage();
    store?.setItem(PREFIX + subjectKey, JSON.stringify({ savedAt: now, assignments: kept } satisfies Stored));
    store?.setItem(LAST_SUBJECT_KEY, subjectKey);
  } catch {
    // Quota or privacy mode: the cache is an optimisation only.
  }
}
