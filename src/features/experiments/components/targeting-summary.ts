import type { TargetingRules } from "@/features/experiments/core/targeting-rules";

/** One line a person can read: "plans teams, organization · not in an organization · condition". */
export function describeTargeting(rules: TargetingRules): string {
  const parts: string[] = [];
  if (rules.plans?.length) parts.push(`plans ${rules.plans.join(", ")}`);
  if (rules.teamIds?.length) parts.push(`${rules.teamIds.length} listed team(s)`);
  if (rules.organizationIds?.length) parts.push(`${rules.organizationIds.length} listed organization(s)`);
  if (rules.excludeOrganizations) parts.push("not in an organization");
  if (rules.condition && Object.keys(rules.condition).length) parts.push("attribute condition");
  return parts.length ? parts.join(" · ") : "Everyone";
}
