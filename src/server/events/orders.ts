import { createHmac, timingSafeEqual } from "node:crypto";
import { CONVERSION_EVENT, EVENT_SCHEMA_VERSION } from "@/features/experiments/core/events";
import {
  PURCHASE_EVENT,
  parseCartAttributes,
  type ShopifyOrder,
  shopifyOrderSchema,
} from "@/features/experiments/core/orders";
import type { ExperimentServices } from "@/features/experiments/server/services";
import type { ConsentState, DeliveryStatus, Prisma } from "@/generated/prisma/client";
import { logger } from "@/server/logger";
import { clientIp, createRateLimiter, type RateLimiter } from "@/server/rate-limit";
import { readBoundedBody } from "./body";

export const SHOPIFY_HMAC_HEADER = "X-Shopify-Hmac-Sha256";
export const MAX_ORDER_BODY_BYTES = 256 * 1024;

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Shopify signs the exact bytes it sent, so the caller passes the raw body, never a re-serialised
 * object. The comparison takes the same time however many leading bytes match.
 */
export function verifyShopifyHmac(
  rawBody: string | Uint8Array,
  header: string | null,
  secret: string,
): boolean {
  if (!header || !secret) return false;
  const given = header.trim();
  // Buffer.from(…, "base64") skips characters it does not know; only the canonical form is accepted.
  if (!BASE64_SHA256.test(given)) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  const received = Buffer.from(given, "base64");
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export type OrderOutcome = {
  /** Events written for this order: the plain purchase plus one conversion per attributed experiment. */
  recorded: number;
  /** The order had been recorded before; nothing was written. */
  replay: boolean;
};

type Services = Pick<ExperimentServices, "repository" | "catalog">;
/** `assignmentType` as PostHog sees it on exposures: `deterministic` or `random`. */
type Attributed = { slug: string; variant: string; phase: number; assignmentType: string };

const DELIVERY: Record<ConsentState, DeliveryStatus> = {
  GRANTED: "PENDING",
  NOT_REQUIRED: "PENDING",
  PENDING: "HELD",
  DENIED: "LOCAL_ONLY",
};

/**
 * Turns an order into purchase events in the outbox. The plain `purchase` row (key
 * `order:<id>`) doubles as the record that the order was processed: it is inserted first, in the
 * same transaction as the conversions, and when it already exists the delivery is a replay and
 * nothing else is written, even if the catalog has changed since the first delivery.
 */
export class OrderAttribution {
  constructor(private readonly services: Services) {}

  private get db() {
    return this.services.repository.db;
  }

  async recordOrder(order: ShopifyOrder, options: { now?: Date } = {}): Promise<OrderOutcome> {
    const cart = parseCartAttributes(order.note_attributes);
    // Without any id of the buyer there is no one to attribute the order to, here or in PostHog.
    if (!cart.visitorId && !cart.phDistinctId) return { recorded: 0, replay: false };
    const now = options.now ?? new Date();
    const attributed = cart.visitorId ? await this.attributedVariants(cart.visitorId, cart.variants) : [];
    const consent = cart.visitorId ? await this.consentOf(cart.visitorId) : "PENDING";
    const envelope = {
      // A clock running ahead at the shop must not date a purchase into the future.
      occurredAt: new Date(Math.min(order.created_at.getTime(), now.getTime())),
      visitorId: cart.visitorId ?? null,
      // Ties the purchase to the conversions it credits, in the outbox and in PostHog.
      correlationId: `order:${order.orderId}`,
      source: "WEBHOOK" as const,
      schemaVersion: EVENT_SCHEMA_VERSION,
      consent,
      deliveryStatus: DELIVERY[consent],
    };
    // Only ids and amounts: the payload's customer, addresses and browser IP never get this far.
    const shared: Prisma.InputJsonObject = {
      order_id: order.orderId,
      value: order.total_price,
      currency: order.currency,
      ...(cart.phDistinctId ? { ph_distinct_id: cart.phDistinctId } : {}),
      ...(cart.sessionId ? { session_id: cart.sessionId } : {}),
    };
    const purchase: Prisma.EventCreateManyInput = {
      ...envelope,
      name: PURCHASE_EVENT,
      idempotencyKey: `order:${order.orderId}`,
      properties: {
        ...shared,
        ...Object.fromEntries(attributed.map(({ slug, variant }) => [`$feature/${slug}`, variant])),
      },
    };
    const conversions = attributed.map(
      ({ slug, variant, phase, assignmentType }): Prisma.EventCreateManyInput => ({
        ...envelope,
        name: CONVERSION_EVENT,
        experimentSlug: slug,
        variant,
        phase,
        idempotencyKey: `order:${order.orderId}:${slug}`,
        properties: {
          ...shared,
          conversion_event: PURCHASE_EVENT,
          experiment_slug: slug,
          variant,
          assignment_type: assignmentType,
          [`$feature/${slug}`]: variant,
        },
      }),
    );
    return this.db.$transaction(async (tx) => {
      const marked = await tx.event.createMany({ data: [purchase], skipDuplicates: true });
      if (marked.count === 0) return { recorded: 0, replay: true };
      const written = conversions.length
        ? await tx.event.createMany({ data: conversions, skipDuplicates: true })
        : { count: 0 };
      return { recorded: marked.count + written.count, replay: false };
    });
  }

  /**
   * The variant each named experiment served this visitor: the stored assignment of the current
   * phase when there is one (the server's truth), else what the cart says if that variant exists.
   * Unknown experiments, and experiments that count other events than purchases, are skipped.
   */
  private async attributedVariants(
    visitorId: string,
    fromCart: Record<string, string>,
  ): Promise<Attributed[]> {
    const snapshot = await this.services.catalog.getSnapshot();
    const experiments = Object.keys(fromCart).flatMap((slug) => {
      const config = snapshot.experiments.get(slug)?.config;
      if (!config) return [];
      if (config.conversionEvents.length && !config.conversionEvents.includes(PURCHASE_EVENT)) return [];
      return [{ slug, config }];
    });
    if (!experiments.length) return [];
    const stored = await this.services.repository.findAssignmentsForSubjects(
      { visitorId },
      experiments.map(({ slug }) => slug),
    );
    return experiments.flatMap(({ slug, config }) => {
      const row = stored.find(
        (candidate) =>
          candidate.experimentSlug === slug &&
          candidate.phase === config.phase &&
          candidate.visitorId === visitorId,
      );
      if (row) {
        const assignmentType = row.assignmentType.toLowerCase();
        return [{ slug, variant: row.variant, phase: config.phase, assignmentType }];
      }
      const variant = fromCart[slug];
      if (!variant || !config.variants.some(({ name }) => name === variant)) return [];
      // No stored assignment to read it from: the experiment's own setting is how it would assign.
      return [{ slug, variant, phase: config.phase, assignmentType: config.assignmentType }];
    });
  }

  /**
   * The visitor's latest consent answer as their own events recorded it. Webhook rows are left
   * out: they copy consent from earlier rows and would repeat a stale answer.
   */
  private async consentOf(visitorId: string): Promise<ConsentState> {
    const latest = await this.db.event.findFirst({
      where: { visitorId, source: { not: "WEBHOOK" }, consent: { in: ["GRANTED", "DENIED", "PENDING"] } },
      orderBy: { receivedAt: "desc" },
      select: { consent: true },
    });
    return latest?.consent ?? "PENDING";
  }
}

export type OrderWebhookDeps = {
  services: Services;
  secret: string | undefined;
  limiter?: RateLimiter;
  maxBodyBytes?: number;
};

// Shopify retries from a handful of addresses; this only stops a single source from flooding us.
const defaultLimiter = createRateLimiter({ name: "orders", limit: 300, windowMs: 60_000 });

function reply(status: number, body: unknown, headers?: Record<string, string>): Response {
  return Response.json(body, { status, headers });
}

/**
 * `POST /api/webhooks/orders`, independent of Next so tests can call it with a plain Request.
 * The signature is checked before the body is parsed: nothing from an unsigned request is read.
 */
export async function handleOrderWebhook(request: Request, deps: OrderWebhookDeps): Promise<Response> {
  if (request.method !== "POST") return reply(405, { error: "Method not allowed" }, { allow: "POST" });
  const decision = await (deps.limiter ?? defaultLimiter).consume(clientIp(request.headers));
  if (!decision.allowed) {
    return reply(429, { error: "Too many requests" }, { "retry-after": String(decision.retryAfterSeconds) });
  }
  if (!deps.secret) {
    return reply(503, { error: "The order webhook is not configured: ORDER_WEBHOOK_SECRET is not set" });
  }
  const body = await readBoundedBody(request, deps.maxBodyBytes ?? MAX_ORDER_BODY_BYTES);
  if (body === "too-large") return reply(413, { error: "Payload too large" });
  if (!verifyShopifyHmac(body, request.headers.get(SHOPIFY_HMAC_HEADER), deps.secret)) {
    return reply(401, { error: `Missing or invalid ${SHOPIFY_HMAC_HEADER}` });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return reply(400, { error: "Body must be UTF-8 JSON" });
  }
  const parsed = shopifyOrderSchema.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: issue.path.join(".") || "(body)",
      message: issue.message,
    }));
    const summary = issues.map(({ field, message }) => `${field}: ${message}`).join("; ");
    return reply(400, { error: `Malformed order: ${summary}`, issues });
  }
  try {
    return reply(200, await new OrderAttribution(deps.services).recordOrder(parsed.data));
  } catch (error) {
    logger.error("order webhook could not record the order", {
      orderId: parsed.data.orderId,
      error: String(error),
    });
    return reply(500, { error: "Internal server error" });
  }
}
