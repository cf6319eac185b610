"use client";

import { useState } from "react";
import type { CartAttribute } from "@/features/experiments/core/orders";
import { trackConversion, useCartAttributes, useExperiment } from "@/features/experiments/hooks";

const PLANS = [
  { name: "Individual", monthly: 12, annual: 120, gets: "Unlimited experiments for one person" },
  { name: "Teams", monthly: 30, annual: 300, gets: "Shared experiments, team targeting, audit log" },
  { name: "Organization", monthly: 90, annual: 900, gets: "Everything, for every team in your organization" },
];

/** A three-variant test for signed-in users: how prices are presented. */
export function PricingTable({ signedIn }: { signedIn: boolean }) {
  const { variant } = useExperiment("pricing-page", { skip: !signedIn });
  const shown = variant ?? "control";
  const attributesForCart = useCartAttributes();
  const [cart, setCart] = useState<CartAttribute[] | null>(null);
  return (
    <section className="stack" data-experiment="pricing-page" data-variant={shown}>
      {!signedIn && (
        <p className="muted">Sign in to take part in the pricing test; you see the default meanwhile.</p>
      )}
      <div className="grid-2">
        {PLANS.map((plan) => (
          <div key={plan.name} className="card stack">
            <h2>{plan.name}</h2>
            {shown === "value-first" && <p>{plan.gets}</p>}
            {shown === "annual-first" ? (
              <p>
                <strong>${plan.annual}/year</strong>{" "}
                <span className="muted">(two months free; ${plan.monthly}/month)</span>
              </p>
            ) : (
              <p>
                <strong>${plan.monthly}/month</strong> <span className="muted">or ${plan.annual}/year</span>
              </p>
            )}
            {shown !== "value-first" && <p className="muted">{plan.gets}</p>}
            <button
              type="button"
              data-testid={`begin-checkout-${plan.name.toLowerCase()}`}
              onClick={() => {
                trackConversion("pricing-page", "begin_checkout", { plan: plan.name.toLowerCase() });
                // What a storefront would write into the cart so the order webhook can attribute it.
                setCart(attributesForCart());
              }}
            >
              Choose {plan.name}
            </button>
          </div>
        ))}
      </div>
      {cart && (
        <details className="card" data-testid="cart-attributes">
          <summary>Cart attributes written for the order webhook</summary>
          <pre className="diff">
            {cart.map((attribute) => `${attribute.name}=${attribute.value}`).join("\n")}
          </pre>
        </details>
      )}
    </section>
  );
}
