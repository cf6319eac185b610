import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { distinctIdOf, posthogProperties } from "@/server/events/destinations";
import { handleOrderWebhook } from "@/server/events/orders";
import type { OutboxEvent } from "@/server/events/outbox";
import { MemoryRateLimiter, type RateLimiter } from "@/server/rate-limit";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

const SECRET = "order-webhook-test-secret";
const visitor = (n: number) => `5a1e${String(n).padStart(4, "0")}-1111-4222-8333-444455556666`;
const sign = (body: string, secret = SECRET) => createHmac("sha256", secret).update(body).digest("base64");

let orderCounter = 0;
function order(input: {
  visitorId?: string;
  phDistinctId?: string;
  variants?: Record<string, string>;
  extra?: Record<string, unknown>;
}) {
  orderCounter += 1;
  const attributes = [
    ...(input.visitorId ? [{ name: "verdict_visitor_id", value: input.visitorId }] : []),
    { name: "verdict_session_id", value: "sess-42" },
    ...(input.phDistinctId ? [{ name: "ph_distinct_id", value: input.phDistinctId }] : []),
    ...Object.entries(input.variants ?? {}).map(([slug, variant]) => ({
      name: `exp_${slug}`,
      value: variant,
    })),
  ];
  return {
    id: 5_000_000_000 + process.pid * 1000 + orderCounter,
    total_price: "199.65",
    currency: "EUR",
    created_at: "2024-05-01T10:00:00-04:00",
    note_attributes: attributes,
    ...input.extra,
  };
}

function post(body: string, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/api/webhooks/orders", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.20", ...headers },
    body,
  });
}

const signed = (payload: unknown, headers: Record<string, string> = {}) => {
  const body = JSON.stringify(payload);
  return post(body, { "x-shopify-hmac-sha256": sign(body), ...headers });
};

const asOutbox = (row: {
  [key: string]: unknown;
  properties: unknown;
  occurredAt: Date;
  idempotencyKey: string;
}): OutboxEvent => ({
  ...(row as unknown as OutboxEvent),
  properties: row.properties as Record<string, unknown>,
});

describe.each(databaseKinds())("order webhook on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  const call = (request: Request, limiter: RateLimiter = new MemoryRateLimiter(1000, 60_000)) =>
    handleOrderWebhook(request, { services, secret: SECRET, limiter });
  const eventsOf = (orderId: number | string) =>
    test.db.event.findMany({
      where: {
        OR: [{ idempotencyKey: `order:${orderId}` }, { idempotencyKey: { startsWith: `order:${orderId}:` } }],
      },
      orderBy: { idempotencyKey: "asc" },
    });

  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
  });

  it("records a purchase per experiment with the visitor's stored variant, and once for PostHog", async () => {
    const first = await createExperiment(services);
    const second = await createExperiment(services);
    const signupOnly = await createExperiment(services, { conversionEvents: ["signup"] });
    const id = visitor(1);
    const served = await services.assignments.getVariantForVisitor(first, id);
    const alsoServed = await services.assignments.getVariantForVisitor(second, id);
    await services.assignments.getVariantForVisitor(signupOnly, id);
    await services.events.recordExposure({
      ids: { visitorId: id },
      source: "BROWSER",
      consent: "granted",
      slug: first,
      variant: served.variant as string,
    });
    const claimed = served.variant === "control" ? "treatment" : "control";
    const payload = order({
      visitorId: id,
      phDistinctId: "ph-browser-1",
      // The cart claims the other variant for `first`: the stored assignment must win.
      variants: { [first]: claimed, [second]: alsoServed.variant as string, [signupOnly]: "control" },
    });
    payload.note_attributes.push({ name: "exp_no-such-experiment", value: "control" });

    const response = await call(signed(payload));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ recorded: 3, replay: false });

    const rows = await eventsOf(payload.id);
    expect(rows.map((row) => row.idempotencyKey).sort()).toEqual(
      [`order:${payload.id}`, `order:${payload.id}:${first}`, `order:${payload.id}:${second}`].sort(),
    );
    for (const row of rows) {
      expect(row).toMatchObject({
        visitorId: id,
        userId: null,
        source: "WEBHOOK",
        consent: "GRANTED",
        deliveryStatus: "PENDING",
        occurredAt: new Date("2024-05-01T14:00:00Z"),
        correlationId: `order:${payload.id}`,
      });
      expect(distinctIdOf(asOutbox(row))).toBe("ph-browser-1");
      expect(posthogProperties(asOutbox(row))).not.toHaveProperty("ph_distinct_id");
    }
    const conversion = rows.find((row) => row.experimentSlug === first);
    expect(conversion).toMatchObject({ name: "experiment_conversion", variant: served.variant, phase: 1 });
    expect(conversion?.properties).toEqual({
      conversion_event: "purchase",
      order_id: String(payload.id),
      value: 199.65,
      currency: "EUR",
      experiment_slug: first,
      variant: served.variant,
      assignment_type: "deterministic",
      [`$feature/${first}`]: served.variant,
      ph_distinct_id: "ph-browser-1",
      session_id: "sess-42",
    });
    const purchase = rows.find((row) => row.experimentSlug === null);
    expect(purchase).toMatchObject({ name: "purchase", variant: null, phase: null });
    expect(purchase?.properties).toMatchObject({
      order_id: String(payload.id),
      value: 199.65,
      currency: "EUR",
      [`$feature/${first}`]: served.variant,
      [`$feature/${second}`]: alsoServed.variant,
    });
  });

  it("falls back to the cart's variant and the visitor id, and holds events until consent", async () => {
    const slug = await createExperiment(services, { assignmentType: "random" });
    const id = visitor(2);
    const payload = order({ visitorId: id, variants: { [slug]: "treatment" } });
    expect(await (await call(signed(payload))).json()).toEqual({ recorded: 2, replay: false });
    const rows = await eventsOf(payload.id);
    const conversion = rows.find((row) => row.experimentSlug === slug);
    expect(conversion).toMatchObject({
      variant: "treatment",
      consent: "PENDING",
      deliveryStatus: "HELD",
    });
    // No stored assignment to read it from: the experiment's own assignment type.
    expect(conversion?.properties).toMatchObject({ assignment_type: "random", variant: "treatment" });
    for (const row of rows) {
      expect(row.properties).not.toHaveProperty("ph_distinct_id");
      expect(distinctIdOf(asOutbox(row))).toBe(id);
    }

    const unknownVariant = order({ visitorId: visitor(3), variants: { [slug]: "no-such-variant" } });
    expect(await (await call(signed(unknownVariant))).json()).toEqual({ recorded: 1, replay: false });
    const anonymous = order({ variants: { [slug]: "control" } });
    expect(await (await call(signed(anonymous))).json()).toEqual({ recorded: 0, replay: false });
    expect(await eventsOf(anonymous.id)).toHaveLength(0);
  });

  it("follows the visitor's latest own consent answer", async () => {
    const id = visitor(4);
    const row = (n: number, consent: "GRANTED" | "DENIED", source: "BROWSER" | "WEBHOOK", ageMs: number) => ({
      visitorId: id,
      name: "experiment_viewed",
      source,
      consent,
      occurredAt: new Date(),
      receivedAt: new Date(Date.now() - ageMs),
      idempotencyKey: `t:${id}:${n}`,
    });
    // The newest row is a webhook's copy of an older answer: only the visitor's own rows count.
    await test.db.event.createMany({
      data: [
        row(1, "GRANTED", "BROWSER", 60_000),
        row(2, "DENIED", "BROWSER", 30_000),
        row(3, "GRANTED", "WEBHOOK", 0),
      ],
    });
    const payload = order({ visitorId: id });
    await call(signed(payload));
    expect(await eventsOf(payload.id)).toMatchObject([{ consent: "DENIED", deliveryStatus: "LOCAL_ONLY" }]);
  });

  it("refuses a missing or wrong signature and records nothing", async () => {
    const payload = order({ visitorId: visitor(5), phDistinctId: "ph-5" });
    const body = JSON.stringify(payload);
    const attempts = [
      post(body),
      post(body, { "x-shopify-hmac-sha256": sign(body, "not-the-secret") }),
      post(body, { "x-shopify-hmac-sha256": sign(`${body} `) }),
      post(body, { "x-shopify-hmac-sha256": "garbage" }),
    ];
    for (const request of attempts) {
      const response = await call(request);
      expect(response.status).toBe(401);
      expect((await response.json()).error).toMatch(/X-Shopify-Hmac-Sha256/);
    }
    expect(await eventsOf(payload.id)).toHaveLength(0);
  });

  it("ignores a replayed order, also when deliveries race", async () => {
    const slug = await createExperiment(services);
    const id = visitor(6);
    await services.assignments.getVariantForVisitor(slug, id);
    const payload = order({ visitorId: id, variants: { [slug]: "control" } });
    const body = JSON.stringify(payload);
    const deliver = () => call(post(body, { "x-shopify-hmac-sha256": sign(body) }));
    const results = await Promise.all(Array.from({ length: 5 }, async () => (await deliver()).json()));
    expect(results.filter((result) => result.replay === false)).toEqual([{ recorded: 2, replay: false }]);
    expect(results.filter((result) => result.replay === true)).toHaveLength(4);
    expect(await (await deliver()).json()).toEqual({ recorded: 0, replay: true });
    expect(await eventsOf(payload.id)).toHaveLength(2);

    // A replay writes nothing even for an experiment that appeared since the first delivery.
    const later = await createExperiment(services);
    const again = {
      ...payload,
      note_attributes: [...payload.note_attributes, { name: `exp_${later}`, value: "control" }],
    };
    expect(await (await call(signed(again))).json()).toEqual({ recorded: 0, replay: true });
    expect(await eventsOf(payload.id)).toHaveLength(2);
  });

  it("answers 400 naming the field of a malformed order, and records nothing", async () => {
    const payload = order({ visitorId: visitor(7), extra: { total_price: 199.65, currency: "euros" } });
    const response = await call(signed(payload));
    expect(response.status).toBe(400);
    const answer = await response.json();
    expect(answer.error).toMatch(/total_price/);
    expect(answer.issues.map((issue: { field: string }) => issue.field).sort()).toEqual([
      "currency",
      "total_price",
    ]);
    expect(await eventsOf(payload.id)).toHaveLength(0);

    const notJson = "{not json";
    const broken = await call(post(notJson, { "x-shopify-hmac-sha256": sign(notJson) }));
    expect(broken.status).toBe(400);
  });

  it("never stores the buyer's email, name, addresses or IP", async () => {
    const slug = await createExperiment(services);
    const payload = order({
      visitorId: visitor(8),
      phDistinctId: "ph-8",
      variants: { [slug]: "control" },
      extra: {
        email: "buyer@example.com",
        contact_email: "buyer@example.com",
        browser_ip: "203.0.113.77",
        customer: { email: "buyer@example.com", first_name: "Ada", last_name: "Lovelace" },
        billing_address: { name: "Ada Lovelace", address1: "12 Analytical Row", zip: "N1 9GU" },
        shipping_address: { name: "Ada Lovelace", address1: "12 Analytical Row", phone: "+44 20 7946 0000" },
        client_details: { browser_ip: "203.0.113.77", user_agent: "Mozilla/5.0" },
      },
    });
    payload.note_attributes.push({ name: "email", value: "buyer@example.com" });
    expect((await call(signed(payload))).status).toBe(200);
    const rows = await eventsOf(payload.id);
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    for (const secret of [
      "buyer@example.com",
      "Ada",
      "Lovelace",
      "Analytical",
      "N1 9GU",
      "203.0.113.77",
      "7946",
    ]) {
      expect(stored).not.toContain(secret);
    }
  });

  it("rate-limits per client address with Retry-After", async () => {
    const limiter = new MemoryRateLimiter(2, 60_000);
    const from = (ip: string) => signed(order({ visitorId: visitor(9) }), { "x-forwarded-for": ip });
    expect((await call(from("192.0.2.1"), limiter)).status).toBe(200);
    expect((await call(from("192.0.2.1"), limiter)).status).toBe(200);
    const payload = order({ visitorId: visitor(9) });
    const limited = await call(signed(payload, { "x-forwarded-for": "192.0.2.1" }), limiter);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await eventsOf(payload.id)).toHaveLength(0);
    expect((await call(from("192.0.2.2"), limiter)).status).toBe(200);
  });

  it("answers 503 without a secret, 413 for an oversized body and 405 for other methods", async () => {
    const payload = order({ visitorId: visitor(10) });
    const unconfigured = await handleOrderWebhook(signed(payload), { services, secret: undefined });
    expect(unconfigured.status).toBe(503);
    expect((await unconfigured.json()).error).toMatch(/ORDER_WEBHOOK_SECRET/);

    const huge = JSON.stringify({ ...payload, padding: "x".repeat(300 * 1024) });
    const tooLarge = await call(post(huge, { "x-shopify-hmac-sha256": sign(huge) }));
    expect(tooLarge.status).toBe(413);
    expect(await eventsOf(payload.id)).toHaveLength(0);

    const get = await call(new Request("http://localhost/api/webhooks/orders"));
    expect(get.status).toBe(405);
  });
});
