"use client";

import { useCallback } from "react";
import { type CartAttribute, cartAttributes } from "@/features/experiments/core/cart-attributes";
import { useExperimentContext } from "./provider";
import { getOrCreateVisitorId } from "./visitor-id";

const SESSION_KEY = "verdict_session_id";

/** A per-tab browsing session id, so an order can be tied to the session that placed it. */
function sessionId(): string {
  try {
    const existing = window.sessionStorage.getItem(SESSION_KEY);
    if (existing) return existing;
    const created = globalThis.crypto.randomUUID();
    window.sessionStorage.setItem(SESSION_KEY, created);
    return created;
  } catch {
    return globalThis.crypto.randomUUID();
  }
}

/** posthog-js's distinct id, when it was loaded (only after consent). */
function posthogDistinctId(): string | null {
  const posthog = (window as unknown as { posthog?: { get_distinct_id?: () => string } }).posthog;
  return posthog?.get_distinct_id?.() ?? null;
}

/**
 * The tracking attributes to write on the cart before checkout, so the order webhook can credit
 * the purchase to the right visitor and variants. Only real assignments are included: forced
 * previews and tests the visitor is not in never reach the results.
 */
export function useCartAttributes(): () => CartAttribute[] {
  const { assignments, identity } = useExperimentContext();
  return useCallback(() => {
    const visitorId = identity.visitorId ?? getOrCreateVisitorId();
    if (!visitorId) return [];
    const enrolled = Object.fromEntries(
      Object.values(assignments)
        .filter((entry) => entry.reason === "assigned" || entry.reason === "sticky")
        .map((entry) => [entry.slug, entry.variant]),
    );
    return cartAttributes({
      visitorId,
      sessionId: sessionId(),
      phDistinctId: posthogDistinctId(),
      assignments: enrolled,
    });
  }, [assignments, identity.visitorId]);
}
