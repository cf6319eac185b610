import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

const gunzipAsync = promisify(gunzip);

/**
 * PostHog's capture API (`POST /batch/`) on loopback, for the ingest benchmark: it keeps how many
 * times each event uuid arrived (PostHog counts an event once per uuid), not the events
 * themselves, so a long run stays small in memory. Modelled on tests/integration/fake-posthog.ts.
 */
export class CaptureServer {
  /** Arrivals per uuid: 1 is right, 2 or more is a duplicate delivery. */
  readonly arrivals = new Map<string, number>();
  received = 0;
  batches = 0;
  private server: Server | null = null;

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("the capture server is not listening");
    return `http://127.0.0.1:${address.port}`;
  }

  get unique(): number {
    return this.arrivals.size;
  }

  /** Uuids that arrived more than once, and how many extra copies came. */
  duplicates(): { uuids: number; extraCopies: number } {
    let uuids = 0;
    let extraCopies = 0;
    for (const count of this.arrivals.values()) {
      if (count > 1) {
        uuids += 1;
        extraCopies += count - 1;
      }
    }
    return { uuids, extraCopies };
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    // Deliveries reuse connections; the default keep-alive is shorter than a slow batch.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== "POST" || !request.url?.startsWith("/batch")) {
      response.writeHead(404).end();
      return;
    }
    try {
      const raw = Buffer.concat(chunks);
      const text = (request.headers["content-encoding"] === "gzip" ? await gunzipAsync(raw) : raw).toString(
        "utf8",
      );
      const body = JSON.parse(text) as { api_key?: string; batch?: { uuid?: string }[] };
      if (!body.api_key || !Array.isArray(body.batch)) {
        response.writeHead(400).end();
        return;
      }
      for (const event of body.batch) {
        const uuid = event.uuid ?? "(none)";
        this.arrivals.set(uuid, (this.arrivals.get(uuid) ?? 0) + 1);
      }
      this.received += body.batch.length;
      this.batches += 1;
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"Ok"}');
    } catch {
      response.writeHead(400).end();
    }
  }
}
