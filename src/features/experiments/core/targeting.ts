import { evalCondition, type SavedGroups } from "./conditions";
import type { TargetingAttributes, TargetingRules } from "./targeting-rules";

/** One rule of an experiment's audience and whether the subject passed it. */
export type TargetingCheck = {
  rule: "plans" | "teamIds" | "organizationIds" | "excludeOrganizations" | "condition";
  passed: boolean;
  detail: string;
};

function isListed(list: readonly string[] | undefined, value: unknown): boolean {
  return typeof value === "string" && (list ?? []).includes(value);
}

/**
 * Every present rule, checked against the subject's attributes. An empty list is treated as
 * absent (an admin who cleared a list meant "no restriction", not "nobody").
 */
export function explainTargeting(
  rules: TargetingRules,
  attributes: TargetingAttributes,
  savedGroups: SavedGroups = {},
): TargetingCheck[] {
  const checks: TargetingCheck[] = [];
  if (rules.plans?.length) {
    checks.push({
      rule: "plans",
      passed: isListed(rules.plans, attributes.plan),
      detail: `plan ${attributes.plan ?? "(none)"} in [${rules.plans.join(", ")}]`,
    });
  }
  if (rules.teamIds?.length) {
    checks.push({
      rule: "teamIds",
      passed: isListed(rules.teamIds, attributes.teamId),
      detail: `team ${attributes.teamId ?? "(none)"} in the ${rules.teamIds.length} listed teams`,
    });
  }
  if (rules.organizationIds?.length) {
    checks.push({
      rule: "organizationIds",
      passed: isListed(rules.organizationIds, attributes.organizationId),
      detail: `organization ${attributes.organizationId ?? "(none)"} in the ${rules.organizationIds.length} listed organizations`,
    });
  }
  if (rules.excludeOrganizations) {
    const inOrganization = Boolean(attributes.organizationId) || attributes.plan === "organization";
    checks.push({
      rule: "excludeOrganizations",
      passed: !inOrganization,
      detail: inOrganization ? "subject belongs to an organization" : "subject belongs to no organization",
    });
  }
  if (rules.condition && Object.keys(rules.condition).length > 0) {
    checks.push({
      rule: "condition",
      passed: evalCondition(rules.condition, attributes, savedGroups),
      detail: "attribute condition",
    });
  }
  return checks;
}

/** Whether a subject is in an experiment's audience: every rule AND-ed; no rules → everyone. */
export function evaluateTargeting(
  rules: TargetingRules,
  attributes: TargetingAttributes,
  savedGroups: SavedGroups = {},
): boolean {
  return explainTargeting(rules, attributes, savedGroups).every((check) => check.passed);
}
