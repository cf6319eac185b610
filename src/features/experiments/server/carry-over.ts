import type { PrismaClient } from "@/generated/prisma/client";

/**
 * When a visitor signs in, their visitor-scoped assignments are copied to their user (where the
 * user has none in that experiment and phase), marked VISITOR_CARRYOVER. This browser keeps its
 * cookie, and on any other device the signed-in user is served the same variant. Idempotent:
 * signing in again copies nothing twice (the per-phase unique key absorbs it).
 */
export async function carryOverVisitorAssignments(
  db: PrismaClient,
  visitorId: string,
  userId: string,
): Promise<number> {
  const rows = await db.experimentVariant.findMany({
    where: { visitorId },
    select: { experimentSlug: true, phase: true, variant: true, assignmentType: true, assignedAt: true },
  });
  if (rows.length === 0) return 0;
  const copied = await db.experimentVariant.createMany({
    data: rows.map((row) => ({
      experimentSlug: row.experimentSlug,
      phase: row.phase,
      variant: row.variant,
      userId,
      assignmentType: row.assignmentType,
      origin: "VISITOR_CARRYOVER" as const,
      assignedAt: row.assignedAt,
      metadata: { carriedFromVisitor: visitorId },
    })),
    skipDuplicates: true,
  });
  return copied.count;
}
