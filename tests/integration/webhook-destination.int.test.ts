import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventUuid } from "@/features/experiments/core/events";
import { parseEnv } from "@/server/env";
import { PostHogDestination, WEBHOOK_SIGNATURE_HEADER } from "@/server/events/destinations";
import { EventDispatcher } from "@/server/events/dispatcher";
import { destinationsFromEnv } from "@/server/events/runtime";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";
import { FakePostHog } from "./fake-posthog";

const SECRET = "webhook-destination-test-secret";

type Delivered = {
  uuid: string;
  name: string;
  occurredAt: string;
  distinctId: string;
  properties: Record<string, unknown>;
};

/**
 * A receiver as its documentation tells one to be written: HMAC-SHA256 of the raw body with the
 * shared secret, compared in constant time with `X-Verdict-Signature: sha256=<hex>`, 401 when it
 * does not match. It keeps every POST it accepted.
 */
class WebhookReceiver {
  readonly posts: { signature: string; events: Delivered[] }[] = [];
  refused = 0;
  /** Signed POSTs received, accepted or not. */
  received = 0;
  /** The signed POSTs (1 for the first) answered 503, as a receiver briefly down would. */
  readonly unavailableFor = new Set<number>();
  /** Uuids of events this receiver cannot process: a POST holding one is answered 422. */
  readonly malformed = new Set<string>();
  private server: Server | null = null;

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("the webhook receiver is not listening");
    return `http://127.0.0.1:${address.port}/hooks/verdict`;
  }

  get events(): Delivered[] {
    return this.posts.flatMap((post) => post.events);
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const signature = request.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()];
    const expected = Buffer.from(`sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`);
    const given = Buffer.from(typeof signature === "string" ? signature : "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.refused += 1;
      response.writeHead(401).end();
      return;
    }
    this.received += 1;
    if (this.unavailableFor.has(this.received)) {
      response.writeHead(503).end();
      return;
    }
    const body = JSON.parse(raw.toString("utf8")) as { events: Delivered[] };
    if (body.events.some((event) => this.malformed.has(event.uuid))) {
      response.writeHead(422, { "content-type": "application/json" }).end('{"error":"unprocessable event"}');
      return;
    }
    this.posts.push({ signature: given.toString(), events: body.events });
    response.writeHead(204).end();
  }
}

describe.each(databaseKinds())("webhook destination on %s", (kind) => {
  let test: TestDatabase;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });
  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
    await test.db.event.deleteMany({});
  });
  afterEach(async () => {
    await receiver.stop();
  });

  let sequence = 0;
  async function writeEvents(count: number) {
    const rows = Array.from({ length: count }, () => {
      sequence += 1;
      return {
        name: "experiment_viewed",
        occurredAt: new Date(Date.UTC(2026, 10, 20, 12, 0, sequence % 60)),
        visitorId: `hook-visitor-${sequence}`,
        experimentSlug: "landing-hero",
        variant: "control",
        phase: 1,
        properties: { experiment_slug: "landing-hero", "$feature/landing-hero": "control" },
        source: "BROWSER" as const,
        idempotencyKey: `hook:${process.pid}:${sequence}`,
        consent: "GRANTED" as const,
      };
    });
    await test.db.event.createMany({ data: rows });
    return rows;
  }

  /** The destinations the app would build from this environment. */
  const fromEnv = (secret = SECRET) =>
    destinationsFromEnv(parseEnv({ EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: secret }));

  it("signs each POST with EVENTS_WEBHOOK_SECRET and delivers the events in POSTs of at most 100", async () => {
    const written = await writeEvents(250);
    const destinations = fromEnv();
    expect(destinations.map((destination) => destination.name)).toEqual(["webhook"]);
    // A batch larger than a POST, as a dispatcher configured for bigger batches claims it.
    const dispatcher = new EventDispatcher(test.db, destinations, { batchSize: 250 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 250, delivered: 250 });

    expect(receiver.refused).toBe(0);
    expect(receiver.posts.map((post) => post.events.length)).toEqual([100, 100, 50]);
    for (const post of receiver.posts) expect(post.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(new Set(receiver.events.map((event) => event.uuid)).size).toBe(250);
    const first = written[0];
    const sent = receiver.events.find((event) => event.uuid === eventUuid(first?.idempotencyKey ?? ""));
    expect(sent).toMatchObject({
      name: "experiment_viewed",
      occurredAt: first?.occurredAt.toISOString(),
      distinctId: first?.visitorId,
      properties: { "$feature/landing-hero": "control", visitor_id: first?.visitorId },
    });
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(250);
  });

  it("a dispatcher with its default batch size sends at most 100 per POST", async () => {
    await writeEvents(130);
    const dispatcher = new EventDispatcher(test.db, fromEnv());
    while ((await dispatcher.dispatchOnce()).claimed > 0) {}
    expect(receiver.posts.map((post) => post.events.length)).toEqual([100, 30]);
  });

  it("a POST refused mid-batch: the POSTs before it count as delivered, only it and the rest are retried", async () => {
    await writeEvents(250);
    receiver.unavailableFor.add(2);
    let later = 0;
    const dispatcher = new EventDispatcher(test.db, fromEnv(), {
      batchSize: 250,
      now: () => new Date(Date.now() + later),
    });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 250, delivered: 100, retried: 150 });
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(100);
    const waiting = await test.db.event.findMany({ where: { deliveryStatus: "PENDING" } });
    expect(waiting).toHaveLength(150);
    for (const event of waiting) {
      expect(event.attempts).toBe(1);
      expect(event.lastError).toContain("503");
    }
    // The events of the first POST are not among those waiting: they are never sent again.
    const firstPost = new Set(receiver.posts[0]?.events.map((event) => event.uuid));
    expect(waiting.some((event) => firstPost.has(eventUuid(event.idempotencyKey)))).toBe(false);

    later = 60 * 60_000;
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 150, delivered: 150 });
    expect(receiver.posts.map((post) => post.events.length)).toEqual([100, 100, 50]);
    expect(new Set(receiver.events.map((event) => event.uuid)).size).toBe(250);
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(250);
  });

  it("an event the receiver cannot process (422) is given up on alone; the rest of its POST and the batch go through once", async () => {
    const written = await writeEvents(250);
    const bad = written[130]?.idempotencyKey ?? "";
    receiver.malformed.add(eventUuid(bad));
    const dispatcher = new EventDispatcher(test.db, fromEnv());
    expect(await dispatcher.dispatchOnce()).toMatchObject({
      claimed: 250,
      delivered: 249,
      refused: 1,
      retried: 0,
    });
    expect(receiver.events).toHaveLength(249);
    expect(new Set(receiver.events.map((event) => event.uuid)).size).toBe(249);
    const dead = await test.db.event.findFirstOrThrow({ where: { deliveryStatus: "DEAD" } });
    expect(dead.idempotencyKey).toBe(bad);
    expect(dead.lastError).toContain("webhook answered 422");
    expect(dead.lastError).toContain("unprocessable event");
  });

  it("with PostHog first, an event is delivered once both destinations have it", async () => {
    await writeEvents(250);
    receiver.unavailableFor.add(3);
    const posthog = await new FakePostHog().start();
    try {
      const destinations = [
        new PostHogDestination({ apiKey: "phc_test", host: posthog.url, timeoutMs: 2_000 }),
        ...fromEnv(),
      ];
      const dispatcher = new EventDispatcher(test.db, destinations, { batchSize: 250 });
      expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 250, delivered: 200, retried: 50 });
      expect(posthog.events).toHaveLength(250);
      expect(receiver.events).toHaveLength(200);
      expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(200);
    } finally {
      await posthog.stop();
    }
  });

  it("a receiver refusing the signature leaves the batch to be retried", async () => {
    await writeEvents(5);
    const dispatcher = new EventDispatcher(test.db, fromEnv("not-the-receivers-secret"));
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 5, delivered: 0, retried: 5 });
    expect(receiver.refused).toBe(1);
    expect(receiver.events).toHaveLength(0);
    const failed = await test.db.event.findFirstOrThrow({});
    expect(failed).toMatchObject({ deliveryStatus: "PENDING", attempts: 1 });
    expect(failed.lastError).toContain("401");
  });
});
