"use client";

import { useState } from "react";
import { trackConversion, useCartAttributes } from "@/features/experiments/hooks";
import { pricingAbcExperiment } from "../pricing-abc/experiment";

/** Where a headless (Next.js) storefront talks to Shopify: the Storefront API, with a public token. */
export type Storefront = { endpoint: string; publicToken: string };

const CART_ATTRIBUTES_UPDATE = `
  mutation cartAttributesUpdate($cartId: ID!, $attributes: [AttributeInput!]!) {
    cartAttributesUpdate(cartId: $cartId, attributes: $attributes) {
      cart { checkoutUrl }
      userErrors { message }
    }
  }`;

type UpdateAnswer = {
  data?: {
    cartAttributesUpdate?: { cart: { checkoutUrl: string } | null; userErrors: { message: string }[] };
  };
};

/**
 * Before checkout, write Verdict's tracking attributes on the cart. Shopify copies cart attributes
 * onto the order (`note_attributes`), and the `orders/create` webhook brings them back to
 * POST /api/webhooks/orders, which records a `purchase` conversion for each test named there.
 * Attributes you set elsewhere are sent again with ours, since this mutation replaces the set.
 */
export function CheckoutButton({
  storefront,
  cartId,
  otherAttributes = [],
}: {
  storefront: Storefront;
  cartId: string;
  otherAttributes?: { key: string; value: string }[];
}) {
  // verdict_visitor_id, verdict_session_id, ph_distinct_id (after analytics consent) and
  // exp_<slug>=<variant> for each test this visitor is really in (never a forced preview).
  const cartAttributes = useCartAttributes();
  const [problem, setProblem] = useState<string | null>(null);

  async function checkout() {
    trackConversion(pricingAbcExperiment.slug, "begin_checkout");
    const attributes = [
      ...otherAttributes,
      ...cartAttributes().map(({ name, value }) => ({ key: name, value })),
    ];
    const response = await fetch(storefront.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Shopify-Storefront-Access-Token": storefront.publicToken,
      },
      body: JSON.stringify({ query: CART_ATTRIBUTES_UPDATE, variables: { cartId, attributes } }),
    });
    const answer = (await response.json()) as UpdateAnswer;
    const result = answer.data?.cartAttributesUpdate;
    if (!result?.cart || result.userErrors.length) {
      setProblem(result?.userErrors[0]?.message ?? `The cart could not be updated (${response.status})`);
      return;
    }
    window.location.assign(result.cart.checkoutUrl);
  }

  return (
    <>
      <button type="button" onClick={() => void checkout().catch(() => setProblem("Network error"))}>
        Check out
      </button>
      {problem && <p role="alert">{problem}</p>}
    </>
  );
}
