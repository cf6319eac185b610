import {
  explainTargeting,
  type TargetingAttributes,
  targetingRulesSchema,
} from "@/features/experiments/core";
import { annualBillingOfferExperiment, excludeOrganizationTeams } from "./experiment";

/**
 * Who is in the audience, and why: the same pure functions the server and the admin console's
 * targeting preview use. Runs anywhere (no database): `npx tsx examples/targeting-by-plan/audience.ts`.
 */
const teams: { name: string; attributes: TargetingAttributes }[] = [
  { name: "Solo founder", attributes: { plan: "individual", organizationId: null } },
  { name: "Product team", attributes: { plan: "teams", organizationId: null } },
  { name: "Team inside Acme Corp", attributes: { plan: "teams", organizationId: "org_acme" } },
  { name: "Acme Corp itself", attributes: { plan: "organization", organizationId: "org_acme" } },
];

export function explainAudience(rules: unknown) {
  const parsed = targetingRulesSchema.parse(rules);
  return teams.map(({ name, attributes }) => {
    const checks = explainTargeting(parsed, attributes);
    return { name, included: checks.every((check) => check.passed), checks };
  });
}

export const atLaunch = explainAudience(annualBillingOfferExperiment.targetingRules);
export const afterEdit = explainAudience(excludeOrganizationTeams(2).targetingRules);

if (process.argv[1]?.endsWith("audience.ts")) {
  for (const [label, audience] of [
    ["At launch", atLaunch],
    ["After excluding organizations", afterEdit],
  ] as const) {
    console.log(label);
    for (const team of audience) {
      const why = team.checks.map((check) => `${check.passed ? "✓" : "✗"} ${check.detail}`).join("; ");
      console.log(`  ${team.included ? "in " : "out"}  ${team.name}: ${why}`);
    }
  }
}
