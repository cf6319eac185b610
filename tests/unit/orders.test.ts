import { describe, expect, it } from "vitest";
import {
  CART_ATTRIBUTE,
  cartAttributes,
  MAX_CART_EXPERIMENTS,
  parseCartAttributes,
  shopifyOrderSchema,
} from "@/features/experiments/core/orders";
import { verifyShopifyHmac } from "@/server/events/orders";

const VISITOR = "0f8fad5b-d9cb-469f-a165-70867728950e";

const order = (overrides: Record<string, unknown> = {}) => ({
  id: 820982911946154,
  total_price: "199.65",
  currency: "usd",
  created_at: "2024-05-01T10:00:00-04:00",
  email: "buyer@example.com",
  customer: { first_name: "Ada", last_name: "Lovelace" },
  billing_address: { address1: "1 Main St" },
  browser_ip: "203.0.113.9",
  note_attributes: [{ name: CART_ATTRIBUTE.visitorId, value: VISITOR }],
  ...overrides,
});

describe("shopifyOrderSchema", () => {
  it("keeps only what attribution uses, with the price as a number and the currency upper-cased", () => {
    const parsed = shopifyOrderSchema.parse(order());
    expect(parsed).toEqual({
      orderId: "820982911946154",
      total_price: 199.65,
      currency: "USD",
      created_at: new Date("2024-05-01T14:00:00Z"),
      note_attributes: [{ name: CART_ATTRIBUTE.visitorId, value: VISITOR }],
    });
    expect(JSON.stringify(parsed)).not.toMatch(/buyer@example|Lovelace|Main St|203\.0\.113/);
  });

  it("takes the exact id from admin_graphql_api_id, since a large numeric id loses digits in JSON", () => {
    const parsed = shopifyOrderSchema.parse(
      order({ id: 1, admin_graphql_api_id: "gid://shopify/Order/820982911946154508" }),
    );
    expect(parsed.orderId).toBe("820982911946154508");
    expect(shopifyOrderSchema.parse(order({ id: "A-1001" })).orderId).toBe("A-1001");
    const unsafe = shopifyOrderSchema.safeParse(order({ id: 2 ** 60 }));
    expect(unsafe.success).toBe(false);
  });

  it("names the field that is wrong", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ total_price: 199.65 }, "total_price"],
      [{ total_price: "-3" }, "total_price"],
      [{ currency: "dollars" }, "currency"],
      [{ created_at: "yesterday" }, "created_at"],
      [{ id: "order id with spaces" }, "id"],
      [{ note_attributes: [{ name: "x" }] }, "note_attributes.0.value"],
    ];
    for (const [overrides, field] of cases) {
      const result = shopifyOrderSchema.safeParse(order(overrides));
      expect(result.success, field).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(field);
    }
  });

  it("turns non-string attribute values into strings", () => {
    const parsed = shopifyOrderSchema.parse(
      order({
        note_attributes: [
          { name: "a", value: 3 },
          { name: "b", value: null },
        ],
      }),
    );
    expect(parsed.note_attributes).toEqual([
      { name: "a", value: "3" },
      { name: "b", value: "" },
    ]);
  });
});

describe("parseCartAttributes", () => {
  it("reads ids and experiment variants, ignoring malformed ones and foreign attributes", () => {
    expect(
      parseCartAttributes([
        { name: "gift_note", value: "Happy birthday" },
        { name: CART_ATTRIBUTE.visitorId, value: "not-a-uuid" },
        { name: CART_ATTRIBUTE.visitorId, value: VISITOR },
        { name: CART_ATTRIBUTE.sessionId, value: "sess_123" },
        { name: CART_ATTRIBUTE.phDistinctId, value: "0190c3e2-ph-id" },
        { name: "exp_landing-hero", value: "treatment" },
        { name: "exp_Bad Slug", value: "control" },
        { name: "exp_pricing-page", value: "no spaces allowed" },
        { name: "exp_checkout-flow", value: " control " },
        { name: "exp_landing-hero", value: "control" },
      ]),
    ).toEqual({
      visitorId: VISITOR,
      sessionId: "sess_123",
      phDistinctId: "0190c3e2-ph-id",
      variants: { "landing-hero": "treatment", "checkout-flow": "control" },
    });
  });

  it("drops a distinct id that looks like an email address (personal data)", () => {
    expect(parseCartAttributes([{ name: CART_ATTRIBUTE.phDistinctId, value: "buyer@example.com" }])).toEqual({
      variants: {},
    });
  });

  it("bounds the number of experiments a cart can name", () => {
    const many = Array.from({ length: MAX_CART_EXPERIMENTS + 10 }, (_, i) => ({
      name: `exp_exp-${i}`,
      value: "control",
    }));
    expect(Object.keys(parseCartAttributes(many).variants)).toHaveLength(MAX_CART_EXPERIMENTS);
  });

  it("round-trips what cartAttributes writes, leaving out experiments the visitor is not in", () => {
    const written = cartAttributes({
      visitorId: VISITOR,
      sessionId: "sess_9",
      phDistinctId: "ph-1",
      assignments: { "landing-hero": "treatment", "pricing-page": null },
    });
    expect(written).toEqual([
      { name: "verdict_visitor_id", value: VISITOR },
      { name: "verdict_session_id", value: "sess_9" },
      { name: "ph_distinct_id", value: "ph-1" },
      { name: "exp_landing-hero", value: "treatment" },
    ]);
    expect(parseCartAttributes(written)).toEqual({
      visitorId: VISITOR,
      sessionId: "sess_9",
      phDistinctId: "ph-1",
      variants: { "landing-hero": "treatment" },
    });
    expect(
      cartAttributes({ visitorId: VISITOR, sessionId: "s", assignments: {} }).map(({ name }) => name),
    ).toEqual(["verdict_visitor_id", "verdict_session_id"]);
  });
});

describe("verifyShopifyHmac", () => {
  // Computed independently: printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
  const body = '{"id":1}';
  const signature = "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc=";

  it("accepts the base64 HMAC of the raw body, as text or bytes", () => {
    expect(verifyShopifyHmac(body, signature, "secret")).toBe(true);
    expect(verifyShopifyHmac(new TextEncoder().encode(body), signature, "secret")).toBe(true);
  });

  it("refuses a missing, malformed or wrong signature, another body or another secret", () => {
    expect(verifyShopifyHmac(body, null, "secret")).toBe(false);
    expect(verifyShopifyHmac(body, "", "secret")).toBe(false);
    expect(verifyShopifyHmac(body, "abc", "secret")).toBe(false);
    expect(verifyShopifyHmac(body, `${signature}!`, "secret")).toBe(false);
    expect(verifyShopifyHmac(body, signature, "other")).toBe(false);
    expect(verifyShopifyHmac('{"id":2}', signature, "secret")).toBe(false);
    expect(verifyShopifyHmac(body, signature, "")).toBe(false);
  });
});
