import type { ServedAssignment } from "@/features/experiments/server/request-assignments";

/**
 * Assignments remembered per subject in localStorage, so a later visit renders at once while the
 * server is asked again in the background. An entry is only trusted for the experiment version
 * it was served under; concluded or changed experiments are replaced by the fresh answer.
 */
const PREFIX = "verdict:assignments:v1:";
const MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

type Stored = { savedAt: number; assignments: Record<string, ServedAssignment> };

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}

export function readCachedAssignments(
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

/** Stores the server's answer; forced previews and concluded tests are not remembered. */
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
    storage()?.setItem(
      PREFIX + subjectKey,
      JSON.stringify({ savedAt: now, assignments: kept } satisfies Stored),
    );
  } catch {
    // Quota or privacy mode: the cache is an optimisation only.
  }
}
