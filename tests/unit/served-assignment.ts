import type { ServedAssignment } from "@/features/experiments/server/request-assignments";

/** An assignment as the server serves it to the client SDK, for the hook tests. */
export function served(
  slug: string,
  variant: string | null,
  reason: ServedAssignment["reason"] = "assigned",
  at: { phase?: number; version?: number } = {},
): ServedAssignment {
  return {
    slug,
    variant,
    isControl: variant === "control",
    isNewAssignment: reason === "assigned",
    reason,
    phase: at.phase ?? 1,
    version: at.version ?? 3,
  };
}
