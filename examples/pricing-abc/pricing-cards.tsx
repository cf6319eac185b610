"use client";

import { trackConversion, useExperimentVariant } from "@/features/experiments/hooks";
import { pricingAbcExperiment } from "./experiment";

const SLUG = pricingAbcExperiment.slug;

export type Plan = { id: string; name: string; monthly: number; annual: number; includes: string };

function Price({ plan, annualFirst }: { plan: Plan; annualFirst: boolean }) {
  return annualFirst ? (
    <p>
      <strong>${plan.annual}/year</strong> (${plan.monthly}/month billed monthly)
    </p>
  ) : (
    <p>
      <strong>${plan.monthly}/month</strong> or ${plan.annual}/year
    </p>
  );
}

/** Three presentations of one price list. Props are plain data, so a server component can render it. */
export function PricingCards({ plans }: { plans: Plan[] }) {
  // Just the name: "control" until the variant is known, so there is always something to render.
  const variant = useExperimentVariant(SLUG);

  return (
    <div data-experiment={SLUG} data-variant={variant} className="grid-2">
      {plans.map((plan) => (
        <article key={plan.id} className="card">
          <h2>{plan.name}</h2>
          {variant === "value-first" && <p>{plan.includes}</p>}
          <Price plan={plan} annualFirst={variant === "annual-first"} />
          {variant !== "value-first" && <p>{plan.includes}</p>}
          {/* The tracker batches events; a navigation away sends the batch with sendBeacon. */}
          <a
            href={`/checkout?plan=${plan.id}`}
            onClick={() => trackConversion(SLUG, "begin_checkout", { plan: plan.id })}
          >
            Choose {plan.name}
          </a>
        </article>
      ))}
    </div>
  );
}
