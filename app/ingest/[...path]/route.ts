import { getEnv } from "@/server/env";
import { readBoundedBody } from "@/server/events/body";

/**
 * `/ingest/*`: PostHog's browser traffic through our own domain, so blockers of third-party
 * analytics hosts do not drop it. Only PostHog's own paths are forwarded, bodies are bounded, and
 * no cookies (ours or anyone's) travel to PostHog.
 */
const ALLOWED = /^(e|i\/v0\/e|batch|capture|decide|flags|s|array|static)(\/|$)/;
const MAX_BODY_BYTES = 1_000_000;
const FORWARDED_HEADERS = ["content-type", "content-encoding", "accept", "accept-encoding", "user-agent"];

function isPlainSegment(segment: string): boolean {
  return segment !== "" && segment !== "." && segment !== ".." && !/[/\\]/.test(segment);
}

/** PostHog Cloud serves its static files from a separate assets host. */
function upstreamFor(host: string, path: string): string {
  const base = path.startsWith("static/")
    ? host.replace(/(\w+)\.i\.posthog\.com/, "$1-assets.i.posthog.com")
    : host;
  return base.replace(/\/$/, "");
}

async function forward(
  request: Request,
  context: { params: Promise<{ path: string[] }> },
): Promise<Response> {
  const env = getEnv();
  if (!env.POSTHOG_API_KEY) return new Response("PostHog is not configured", { status: 404 });
  const segments = (await context.params).path;
  // Segments arrive decoded: a `..` (or an encoded slash) would let `e/../anything` pass the
  // allowlist and then resolve to another path on the PostHog host.
  if (!segments.every(isPlainSegment)) return new Response("Not a PostHog path", { status: 404 });
  const path = segments.join("/");
  if (!ALLOWED.test(path)) return new Response("Not a PostHog path", { status: 404 });

  let body: Uint8Array<ArrayBuffer> | undefined;
  if (request.method !== "GET" && request.method !== "HEAD") {
    const read = await readBoundedBody(request, MAX_BODY_BYTES);
    if (read === "too-large") return new Response("Payload too large", { status: 413 });
    body = read;
  }
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const search = new URL(request.url).search;
  const encoded = segments.map(encodeURIComponent).join("/");
  const upstream = await fetch(`${upstreamFor(env.POSTHOG_HOST, path)}/${encoded}${search}`, {
    method: request.method,
    headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  }).catch(() => null);
  if (!upstream) return new Response("PostHog is unreachable", { status: 502 });
  const responseHeaders = new Headers();
  for (const name of ["content-type", "cache-control"]) {
    const value = upstream.headers.get(name);
    if (value) responseHeaders.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
}

export const GET = forward;
export const POST = forward;
