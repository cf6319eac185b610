import type { CreateExperimentInput } from "../types";

/**
 * An A/B/C test: three variants, one of them `control` (exactly one variant must carry that name),
 * with percentages adding up to 100. `purchase` is a conversion event too, so the order webhook
 * credits orders to this test (see examples/order-webhook).
 */
export const pricingAbcExperiment = {
  slug: "pricing-abc",
  description: "Which presentation of our prices makes visitors begin checkout and buy?",
  scope: "visitor",
  variants: [
    { name: "control", percentage: 34, description: "Monthly prices first" },
    { name: "annual-first", percentage: 33, description: "Annual prices first, with the saving" },
    { name: "value-first", percentage: 33, description: "What each plan gets you, prices second" },
  ],
  conversionEvents: ["begin_checkout", "purchase"],
} satisfies CreateExperimentInput;
