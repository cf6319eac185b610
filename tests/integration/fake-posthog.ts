import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export type CapturedEvent = {
  uuid: string;
  event: string;
  distinct_id?: string;
  properties: Record<string, unknown>;
  timestamp?: string;
};

/**
 * A real HTTP server on loopback standing in for PostHog's capture API (`POST /batch/`). It
 * records every accepted batch, and can be told to fail (HTTP 503), to stall (hold requests
 * without answering, as a hung network would), to refuse large batches (HTTP 413) or batches
 * holding a malformed event (HTTP 400).
 */
export class FakePostHog {
  readonly batches: CapturedEvent[][] = [];
  mode: "ok" | "fail" | "stall" = "ok";
  /** Larger batches are refused with 413, as PostHog refuses a body over its size limit. */
  maxEventsPerRequest = Number.POSITIVE_INFINITY;
  /**
   * Events PostHog finds malformed: a batch holding one is refused whole with HTTP 400 and a
   * validation error that names no event, as PostHog's capture endpoint does.
   */
  refuses: (event: CapturedEvent) => boolean = () => false;
  requests = 0;
  /** Requests refused with 400. */
  refusals = 0;
  private readonly stalled: ServerResponse[] = [];
  private server: Server | null = null;

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("fake PostHog is not listening");
    return `http://127.0.0.1:${address.port}`;
  }

  get events(): CapturedEvent[] {
    return this.batches.flat();
  }

  /** How many times each uuid arrived: PostHog counts an event once per uuid. */
  uuidCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const event of this.events) counts.set(event.uuid, (counts.get(event.uuid) ?? 0) + 1);
    return counts;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const response of this.stalled.splice(0)) response.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    this.requests += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== "POST" || !request.url?.startsWith("/batch")) {
      response.writeHead(404).end();
      return;
    }
    if (this.mode === "stall") {
      this.stalled.push(response);
      return;
    }
    if (this.mode === "fail") {
      response.writeHead(503, { "content-type": "application/json" }).end('{"error":"unavailable"}');
      return;
    }
    const raw = Buffer.concat(chunks);
    const text = (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
    const body = JSON.parse(text) as { api_key: string; batch: CapturedEvent[] };
    if (!body.api_key) {
      response.writeHead(401).end();
      return;
    }
    if (body.batch.length > this.maxEventsPerRequest) {
      response.writeHead(413, { "content-type": "application/json" }).end('{"error":"too large"}');
      return;
    }
    if (body.batch.some((event) => this.refuses(event))) {
      this.refusals += 1;
      response
        .writeHead(400, { "content-type": "application/json" })
        .end(
          '{"type":"validation_error","code":"invalid_payload","detail":"Invalid payload: event is invalid"}',
        );
      return;
    }
    this.batches.push(body.batch);
    response.writeHead(200, { "content-type": "application/json" }).end('{"status":"Ok"}');
  }
}
