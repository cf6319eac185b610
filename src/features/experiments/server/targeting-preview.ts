import {
  evaluateTargeting,
  explainTargeting,
  type TargetingCheck,
} from "@/features/experiments/core/targeting";
import type { TargetingAttributes, TargetingRules } from "@/features/experiments/core/targeting-rules";
import type { PrismaClient } from "@/generated/prisma/client";
import type { AssignmentService } from "./assignment-service";
import { isUuid, teamAttributes } from "./request-subject";
import type { Subject } from "./subjects";

export type TargetingPreview = {
  included: boolean;
  checks: TargetingCheck[];
  /** What targeting saw: the server's facts about the subject over the attributes typed in. */
  attributes: TargetingAttributes;
  /** Facts the server could not find (an unknown team or user), so the admin knows why. */
  notes: string[];
  /** What the subject has or would get under the saved configuration (no enrolment). */
  wouldGet: { variant: string | null; reason: string } | null;
};

/**
 * The targeting editor's "would this subject be included, and why": evaluates rules that may not
 * be saved yet against what the server knows about a user or team, plus attributes the admin
 * types in, and peeks at the variant under the saved configuration.
 */
export class TargetingPreviewService {
  constructor(
    private readonly db: PrismaClient,
    private readonly assignments: AssignmentService,
  ) {}

  async preview(input: {
    slug?: string;
    rules: TargetingRules;
    subject: Subject;
    attributes?: Record<string, unknown>;
  }): Promise<TargetingPreview> {
    const { attributes, notes } = await this.knownAttributes(input.subject, input.attributes ?? {});
    const checks = explainTargeting(input.rules, attributes);
    const included = evaluateTargeting(input.rules, attributes);
    let wouldGet: TargetingPreview["wouldGet"] = null;
    if (input.slug) {
      const peeked = await this.assignments
        .peekVariant(input.slug, input.subject, attributes)
        .catch(() => null);
      if (peeked) wouldGet = { variant: peeked.variant, reason: peeked.reason };
    }
    return { included, checks, attributes, notes, wouldGet };
  }

  /** Server-known facts override typed ones, exactly as they do when serving variants. */
  private async knownAttributes(subject: Subject, typed: Record<string, unknown>) {
    const attributes: TargetingAttributes = { ...typed, id: subject.id };
    const notes: string[] = [];
    if (subject.kind === "team") {
      const team = isUuid(subject.id)
        ? await this.db.team.findUnique({
            where: { id: subject.id },
            select: { id: true, plan: true, organizationId: true },
          })
        : null;
      if (team) Object.assign(attributes, teamAttributes(team));
      else notes.push(`No team with id ${subject.id}: only the typed attributes were used.`);
    }
    if (subject.kind === "user") {
      // A user's plan and organization are those of their first team, as when serving variants.
      const user = isUuid(subject.id)
        ? await this.db.user.findUnique({
            where: { id: subject.id },
            select: {
              memberships: {
                select: { team: { select: { id: true, plan: true, organizationId: true } } },
                orderBy: { createdAt: "asc" },
                take: 1,
              },
            },
          })
        : null;
      const team = user?.memberships[0]?.team;
      if (!user) notes.push(`No user with id ${subject.id}: only the typed attributes were used.`);
      else if (team) Object.assign(attributes, teamAttributes(team));
      else notes.push("This user belongs to no team, so plan and organization are unknown.");
    }
    return { attributes, notes };
  }
}
