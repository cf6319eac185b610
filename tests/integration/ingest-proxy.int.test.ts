import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetEnvCache } from "@/server/env";
import { GET, POST } from "../../app/ingest/[...path]/route";

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };

/** PostHog's ingestion host on loopback: records what the proxy forwards, answers with a cookie. */
async function startUpstream() {
  const seen: Seen[] = [];
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    seen.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: Buffer.concat(chunks),
    });
    response
      .writeHead(200, {
        "content-type": "application/json",
        "cache-control": "no-store",
        "set-cookie": "ph_upstream=1; Path=/",
        "x-upstream-only": "yes",
      })
      .end('{"status":1}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const params = (...path: string[]) => ({ params: Promise.resolve({ path }) });

describe("the /ingest PostHog proxy", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  beforeEach(async () => {
    upstream = await startUpstream();
    vi.stubEnv("POSTHOG_API_KEY", "phc_proxy_test");
    vi.stubEnv("POSTHOG_HOST", upstream.url);
    resetEnvCache();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    resetEnvCache();
    await upstream.stop();
  });

  it("forwards PostHog's capture call with its body and query, but no cookies either way", async () => {
    const payload = JSON.stringify({ api_key: "phc_proxy_test", event: "$pageview" });
    const response = await POST(
      new Request("http://localhost/ingest/e/?ip=0&ver=1.449.2", {
        method: "POST",
        headers: {
          "content-type": "text/plain",
          cookie: "verdict_vid=abc; next-auth.session-token=secret-session",
          authorization: "Bearer secret-token",
          "x-forwarded-for": "203.0.113.9",
          "user-agent": "ProxyTest/1.0",
        },
        body: payload,
      }),
      params("e"),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 1 });
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.get("x-upstream-only")).toBeNull();

    expect(upstream.seen).toHaveLength(1);
    const [forwarded] = upstream.seen;
    expect(forwarded).toMatchObject({ method: "POST", url: "/e?ip=0&ver=1.449.2" });
    expect(forwarded?.body.toString("utf8")).toBe(payload);
    expect(forwarded?.headers["content-type"]).toBe("text/plain");
    expect(forwarded?.headers["user-agent"]).toBe("ProxyTest/1.0");
    for (const header of ["cookie", "authorization", "x-forwarded-for"])
      expect(forwarded?.headers).not.toHaveProperty(header);
  });

  it("forwards the other PostHog paths: flags, batches and the static bundle", async () => {
    await POST(
      new Request("http://localhost/ingest/flags?v=2", { method: "POST", body: "{}" }),
      params("flags"),
    );
    await POST(new Request("http://localhost/ingest/batch", { method: "POST", body: "{}" }), params("batch"));
    await GET(new Request("http://localhost/ingest/static/array.js"), params("static", "array.js"));
    await GET(new Request("http://localhost/ingest/i/v0/e"), params("i", "v0", "e"));
    expect(upstream.seen.map((request) => `${request.method} ${request.url}`)).toEqual([
      "POST /flags?v=2",
      "POST /batch",
      "GET /static/array.js",
      "GET /i/v0/e",
    ]);
  });

  it("refuses paths that are not PostHog's, also when they climb out of an allowed one", async () => {
    const refused = [
      params("api", "projects", "1", "persons"),
      params("admin"),
      params("events"),
      // `e/../api/…` would pass a prefix check and resolve to /api/… upstream.
      params("e", "..", "api", "projects"),
      params("static", ".", "..", "..", "api"),
      params("e/../api"),
      params("e", ""),
    ];
    for (const context of refused) {
      const response = await GET(new Request("http://localhost/ingest/x"), context);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("Not a PostHog path");
    }
    expect(upstream.seen).toHaveLength(0);
  });

  it("answers 413 to a body over 1 MB, declared or streamed, without forwarding it", async () => {
    const big = Buffer.alloc(1_000_001, 0x61);
    const declared = await POST(
      new Request("http://localhost/ingest/batch", {
        method: "POST",
        headers: { "content-length": String(big.length) },
        body: big,
      }),
      params("batch"),
    );
    expect(declared.status).toBe(413);

    // Chunked, with no length to go by: cut off once it passes the limit.
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2_000_000) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await POST(
      new Request("http://localhost/ingest/batch", {
        method: "POST",
        body: stream,
        duplex: "half",
      } as RequestInit),
      params("batch"),
    );
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(2_000_000);

    const atLimit = await POST(
      new Request("http://localhost/ingest/batch", { method: "POST", body: Buffer.alloc(1_000_000, 0x63) }),
      params("batch"),
    );
    expect(atLimit.status).toBe(200);
    expect(upstream.seen.map((request) => request.body.length)).toEqual([1_000_000]);
  });

  it("answers 404 when PostHog is not configured, forwarding nothing", async () => {
    vi.stubEnv("POSTHOG_API_KEY", "");
    resetEnvCache();
    const response = await POST(
      new Request("http://localhost/ingest/e", { method: "POST", body: "{}" }),
      params("e"),
    );
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("PostHog is not configured");
    expect(upstream.seen).toHaveLength(0);
  });

  it("answers 502 when PostHog cannot be reached", async () => {
    await upstream.stop();
    const response = await GET(new Request("http://localhost/ingest/flags"), params("flags"));
    expect(response.status).toBe(502);
    upstream = await startUpstream();
  });
});
