/**
 * The cart attributes the browser writes before checkout, so the order webhook can credit a
 * purchase to the visitor and variants (core/orders.ts reads them back on the server). Kept apart
 * from orders.ts, whose zod schemas would otherwise ride along into every page's client bundle.
 */
export const CART_ATTRIBUTE = {
  visitorId: "verdict_visitor_id",
  sessionId: "verdict_session_id",
  phDistinctId: "ph_distinct_id",
} as const;
export const EXPERIMENT_ATTRIBUTE_PREFIX = "exp_";

export type CartAttribute = { name: string; value: string };

/** The attributes the browser writes to the cart before checkout: only experiments it is in. */
export function cartAttributes(input: {
  visitorId: string;
  sessionId: string;
  phDistinctId?: string | null;
  assignments: Record<string, string | null>;
}): CartAttribute[] {
  const attributes: CartAttribute[] = [
    { name: CART_ATTRIBUTE.visitorId, value: input.visitorId },
    { name: CART_ATTRIBUTE.sessionId, value: input.sessionId },
  ];
  if (input.phDistinctId) attributes.push({ name: CART_ATTRIBUTE.phDistinctId, value: input.phDistinctId });
  for (const [slug, variant] of Object.entries(input.assignments)) {
    if (variant !== null) attributes.push({ name: `${EXPERIMENT_ATTRIBUTE_PREFIX}${slug}`, value: variant });
  }
  return attributes;
}
