import type { CreateExperimentInput, UpdateExperimentInput } from "../types";

/**
 * Targeting by plan. Plans belong to teams (`Team.plan`: individual, teams, organization); for a
 * team-scoped test the team's own plan is used, for a user-scoped test the plan of the user's
 * first team. The server looks the plan up itself: a client cannot claim a plan it does not have.
 */
export const annualBillingOfferExperiment = {
  slug: "annual-billing-offer",
  description: "Does offering two free months for annual billing convert self-serve teams?",
  scope: "team",
  variants: [
    { name: "control", percentage: 50, description: "No offer" },
    { name: "two-months-free", percentage: 50, description: "Annual billing banner: two months free" },
  ],
  targetingRules: { plans: ["individual", "teams"] },
  conversionEvents: ["annual_billing_selected"],
} satisfies CreateExperimentInput;

/**
 * Targeting may change at any point in the lifecycle, including while the test runs. This edit
 * also leaves out every team that belongs to an organization (their contracts are negotiated).
 * `expectedVersion` is the version you read: if someone else saved in between, the update is
 * refused with CONFLICT instead of overwriting their change.
 */
export function excludeOrganizationTeams(expectedVersion: number): UpdateExperimentInput {
  return {
    slug: annualBillingOfferExperiment.slug,
    expectedVersion,
    targetingRules: { plans: ["individual", "teams"], excludeOrganizations: true },
  };
}
