import { describe, expect, it } from "vitest";
import { clientProperties, isReservedPropertyKey } from "@/features/experiments/core/events";

describe("client-supplied event properties", () => {
  it("keep the client's own keys, revenue included", () => {
    expect(clientProperties({ plan: "pro", value: 49, currency: "EUR", seats: 3, trial: true })).toEqual({
      plan: "pro",
      value: 49,
      currency: "EUR",
      seats: 3,
      trial: true,
    });
  });

  it("drop every key Verdict or PostHog reads as fact", () => {
    const spoofed = {
      $set: "x",
      $set_once: "x",
      $groups: "x",
      "$feature/landing-hero": "treatment",
      $geoip_disable: false,
      distinct_id: "someone",
      ph_distinct_id: "someone",
      experiment_slug: "other",
      variant: "treatment",
      conversion_event: "purchase",
      assignment_type: "random",
      user_id: "u",
      team_id: "t",
      visitor_id: "v",
      correlation_id: "c",
      session_id: "s",
      verdict_source: "server",
      verdict_schema_version: 9,
      plan: "pro",
    };
    expect(clientProperties(spoofed)).toEqual({ plan: "pro" });
  });

  it("still drop personal data", () => {
    expect(clientProperties({ email: "a@example.com", ip: "203.0.113.1", phone: "1", plan: "pro" })).toEqual({
      plan: "pro",
    });
  });

  it("reserve by exact name, not by resemblance", () => {
    expect(isReservedPropertyKey("variant")).toBe(true);
    expect(isReservedPropertyKey("variant_color")).toBe(false);
    expect(isReservedPropertyKey("my_user_id")).toBe(false);
    expect(isReservedPropertyKey("$anything")).toBe(true);
  });
});
