import { createHmac } from "node:crypto";
import { PostHog } from "posthog-node";
import { type Destination, PartialDelivery, RefusedDelivery, refusesContent } from "./delivery";
import { serverEventUuid } from "./event-uuid";
import type { OutboxEvent } from "./outbox";

/**
 * PostHog's distinct id for an event: the person it is about (the user, else the visitor); team
 * events without either use a stable `team:<id>` id. Purchases may name the browser's own
 * PostHog id (`ph_distinct_id`) so server and browser events join.
 */
export function distinctIdOf(event: OutboxEvent): string {
  // Only the order webhook (signed by the shop) names a PostHog id; on any other event the key
  // came from a client, and must not move the event onto someone else's person.
  const fromCart = event.source === "WEBHOOK" ? event.properties.ph_distinct_id : undefined;
  if (typeof fromCart === "string" && fromCart) return fromCart;
  return event.userId ?? event.visitorId ?? (event.teamId ? `team:${event.teamId}` : "anonymous");
}

/** The properties PostHog receives: the event's own, plus subject ids (never emails or IPs). */
export function posthogProperties(event: OutboxEvent): Record<string, unknown> {
  // Assigned one by one rather than spread: the dispatcher builds a thousand of these per batch,
  // and objects built this way stay in V8's fast mode (several times cheaper to build and send).
  const properties: Record<string, unknown> = {};
  for (const key in event.properties) {
    if (key === "ph_distinct_id" || !Object.hasOwn(event.properties, key)) continue;
    const value = event.properties[key];
    // A stored "__proto__" key stays a plain property, as a spread would have kept it.
    if (key === "__proto__")
      Object.defineProperty(properties, key, { value, enumerable: true, writable: true });
    else properties[key] = value;
  }
  if (event.userId) properties.user_id = event.userId;
  if (event.teamId) properties.team_id = event.teamId;
  if (event.visitorId) properties.visitor_id = event.visitorId;
  if (event.correlationId) properties.correlation_id = event.correlationId;
  properties.verdict_source = event.source.toLowerCase();
  properties.verdict_schema_version = event.schemaVersion;
  // The server's events must not be geolocated from the server's own address.
  properties.$geoip_disable = true;
  return properties;
}

/** Captures between two yields to the event loop. */
const CAPTURES_PER_TURN = 250;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Delivers through posthog-node. A fresh client per batch, with its own retries off: the outbox
 * owns retrying, and a client's internal queue must not resend a batch the outbox already
 * rescheduled. `flush()` rejects when PostHog refuses or cannot be reached. The client's queue
 * holds the whole batch (it would drop the oldest events past `maxQueueSize`), and nothing is sent
 * before `flush()` (whose rejection is the batch's failure), so the batch goes in one request;
 * posthog-node splits it in halves itself when PostHog answers 413 (too large).
 */
export class PostHogDestination implements Destination {
  readonly name = "posthog";

  constructor(private readonly config: { apiKey: string; host: string; timeoutMs?: number }) {}

  async deliver(events: OutboxEvent[]): Promise<void> {
    const client = new PostHog(this.config.apiKey, {
      host: this.config.host,
      flushAt: events.length + 1,
      maxQueueSize: events.length + 1,
      maxBatchSize: events.length + 1,
      flushInterval: 0,
      fetchRetryCount: 0,
      requestTimeout: this.config.timeoutMs ?? 10_000,
      disableGeoip: true,
    });
    try {
      for (const [index, event] of events.entries()) {
        // A capture costs tens of microseconds, most of it in promise callbacks that would all
        // run before the next request's I/O: a thousand in a row held a server's event loop for
        // 20-40 ms. Requests are served between chunks; smaller chunks (100) cut the stalls a
        // little more but, on a busy server, waited so many turns that half as much was delivered.
        if (index > 0 && index % CAPTURES_PER_TURN === 0) await nextTurn();
        client.capture({
          uuid: serverEventUuid(event.idempotencyKey),
          distinctId: distinctIdOf(event),
          event: event.name,
          properties: posthogProperties(event),
          timestamp: event.occurredAt,
        });
      }
      await client.flush().catch(async (error: unknown) => {
        throw await asRefusal(error);
      });
    } finally {
      await client.shutdown(0).catch(() => {});
    }
  }
}

/**
 * posthog-node's HTTP error (it has the status and the answer's body) as a refusal when PostHog
 * refused the content: its answer says why (`invalid_payload` and a detail), which is what an
 * admin needs on the event. Any other failure is passed on as it is.
 */
async function asRefusal(error: unknown): Promise<unknown> {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== "number" || !refusesContent(status)) return error;
  const body = await Promise.resolve((error as { text?: unknown }).text).catch(() => "");
  const detail = typeof body === "string" && body ? `: ${body.slice(0, 500)}` : "";
  return new RefusedDelivery(status, `PostHog refused the events (HTTP ${status})${detail}`, {
    cause: error,
  });
}

/** The signature header of webhook deliveries: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const WEBHOOK_SIGNATURE_HEADER = "X-Verdict-Signature";

export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Events per webhook POST, as PostHog takes them: receivers can size their limits for it. */
export const WEBHOOK_MAX_EVENTS = 100;

/**
 * A generic JSON webhook: the batch in POSTs of at most {@link WEBHOOK_MAX_EVENTS}, each signed so
 * the receiver can trust it. A failed POST stops the batch there: the events of the POSTs before
 * it count as delivered, the rest are retried (receivers still deduplicate by `uuid`, as PostHog
 * does, for a retry after a POST that was taken but not answered).
 */
export class WebhookDestination implements Destination {
  readonly name = "webhook";

  constructor(private readonly config: { url: string; secret: string; timeoutMs?: number }) {}

  async deliver(events: OutboxEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += WEBHOOK_MAX_EVENTS) {
      try {
        await this.post(events.slice(start, start + WEBHOOK_MAX_EVENTS));
      } catch (error) {
        // The earlier POSTs were taken: only this one and the rest are retried.
        throw start > 0 ? new PartialDelivery(start, error) : error;
      }
    }
  }

  private async post(events: OutboxEvent[]): Promise<void> {
    const body = JSON.stringify({
      events: events.map((event) => ({
        uuid: serverEventUuid(event.idempotencyKey),
        name: event.name,
        occurredAt: event.occurredAt.toISOString(),
        distinctId: distinctIdOf(event),
        properties: posthogProperties(event),
      })),
    });
    const response = await fetch(this.config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [WEBHOOK_SIGNATURE_HEADER]: signWebhookBody(body, this.config.secret),
      },
      body,
      signal: AbortSignal.timeout(this.config.timeoutMs ?? 10_000),
    });
    // Read to the end, so the connection goes back to the pool for the next POST.
    const answer = await response.text().catch(() => "");
    if (response.ok) return;
    const message = `webhook answered ${response.status}`;
    if (!refusesContent(response.status)) throw new Error(message);
    throw new RefusedDelivery(response.status, answer ? `${message}: ${answer.slice(0, 500)}` : message);
  }
}
