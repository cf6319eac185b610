// A stand-in for PostHog's hosts during e2e runs: records what arrives (the server's batches and
// the browser's requests through /ingest) and reports it at GET /__captured.
import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";

const port = Number(process.env.FAKE_POSTHOG_PORT ?? 3199);
const received: {
  path: string;
  events: { event: string; uuid?: string; distinct_id?: string; timestamp?: string }[];
}[] = [];

createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const path = request.url ?? "/";
  if (path === "/__health") return void response.end("ok");
  if (path === "/__captured") {
    response.setHeader("content-type", "application/json");
    return void response.end(JSON.stringify(received));
  }
  let events: (typeof received)[number]["events"] = [];
  try {
    const raw = Buffer.concat(chunks);
    const text = (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
    const body = text ? JSON.parse(text) : {};
    events = Array.isArray(body.batch) ? body.batch : Array.isArray(body) ? body : body.event ? [body] : [];
  } catch {
    // Browser payloads may be compressed in other ways; the path is what the tests look at.
  }
  received.push({ path, events });
  response.setHeader("content-type", "application/json");
  response.end(
    path.startsWith("/flags") || path.startsWith("/decide")
      ? '{"featureFlags":{},"flags":{}}'
      : '{"status":1}',
  );
}).listen(port, "127.0.0.1", () => console.log(`fake PostHog on ${port}`));
