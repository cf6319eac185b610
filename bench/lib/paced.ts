import http from "node:http";
import type autocannon from "autocannon";

/**
 * An open-loop load: requests start on a fixed schedule (one every 1/rate s) over a pool of
 * `connections` keep-alive sockets, whether or not earlier ones have been answered, and each
 * latency is measured from the moment its request was due. autocannon's `overallRate` is not
 * that: every connection sends its share of a second back to back when the second begins, so the
 * server sees a burst of the whole second's requests at once and the latencies measure the burst.
 */
export type PacedOptions = {
  url: string;
  connections: number;
  durationSeconds: number;
  ratePerSecond: number;
  requests: autocannon.Request[];
  timeoutSeconds?: number;
};

export type PacedOutcome = {
  requests: number;
  durationSeconds: number;
  latenciesMs: number[];
  /**
   * Per request, how late the load generator itself sent it (its timer or event loop delayed by
   * the machine): part of that request's latency, which counts from when it was due.
   */
  sendLagsMs: number[];
  errors: number;
  /** What the errors were (`ECONNRESET`, `timeout`, …), for the report's notes. */
  errorCodes: Record<string, number>;
  non2xx: number;
};

type Prepared = { method: string; path: string; headers: Record<string, string>; body?: string };

function prepare(template: autocannon.Request): Prepared {
  const base = {
    method: template.method ?? "GET",
    path: template.path ?? "/",
    headers: template.headers ?? {},
  };
  const setup = typeof template.setupRequest === "function" ? template.setupRequest : null;
  const built = (setup ? setup(base as never, {}) : base) as Partial<Prepared>;
  return {
    method: built.method ?? base.method,
    path: built.path ?? base.path,
    headers: (built.headers ?? base.headers) as Record<string, string>,
    ...(typeof built.body === "string" ? { body: built.body } : {}),
  };
}

export async function runPaced(options: PacedOptions): Promise<PacedOutcome> {
  const target = new URL(options.url);
  // FIFO: every socket takes its turn. With the default LIFO a few sockets carry a light load and
  // the rest idle past the server's keep-alive timeout (5 s), which then closes them as a request
  // is written: a reset that measures the agent, not the server.
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections, scheduling: "fifo" });
  const [template] = options.requests;
  if (!template) throw new Error("runPaced needs a request");
  const intervalMs = 1000 / options.ratePerSecond;
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const latenciesMs: number[] = [];
  const sendLagsMs: number[] = [];
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  let non2xx = 0;

  const send = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const request = prepare(template);
      const outgoing = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers: request.body
            ? { ...request.headers, "content-length": Buffer.byteLength(request.body) }
            : request.headers,
          timeout: (options.timeoutSeconds ?? 10) * 1000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const status = response.statusCode ?? 0;
            latenciesMs.push(performance.now() - dueAt);
            if (status < 200 || status > 299) non2xx += 1;
            if (typeof template.onResponse === "function")
              template.onResponse(status, Buffer.concat(chunks).toString("utf8"), {}, response.headers);
            resolve();
          });
        },
      );
      const fail = (error: NodeJS.ErrnoException) => {
        errors += 1;
        const code = error.code ?? error.message;
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        resolve();
      };
      outgoing.on("timeout", () => outgoing.destroy(new Error("timeout")));
      outgoing.on("error", fail);
      outgoing.end(request.body);
    });

  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const dueAt = started + index * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sendLagsMs.push(Math.max(0, performance.now() - dueAt));
    inFlight.push(send(dueAt));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return {
    requests: latenciesMs.length,
    durationSeconds: (performance.now() - started) / 1000,
    latenciesMs,
    sendLagsMs,
    errors,
    errorCodes,
    non2xx,
  };
}

/** The q-quantile (0–1) of `values`, nearest rank, rounded to 0.1 ms. */
export function quantile(values: number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round((sorted[rank] as number) * 10) / 10;
}
