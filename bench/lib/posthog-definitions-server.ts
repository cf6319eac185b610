import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for PostHog, so posthog-node's local evaluation runs without a network.
 * posthog-node 5 downloads flag definitions from `GET /flags/definitions?token=…&send_cohorts`
 * (older releases used `/api/feature_flag/local_evaluation`; both are answered). Any other
 * request (event batches on shutdown) gets an empty 200 so the client never retries.
 */
export type PostHogDefinitions = {
  flags: unknown[];
  group_type_mapping: Record<string, string>;
  cohorts: Record<string, unknown>;
};

// Benchmark helpers keep to the ports set aside for them; the first free one is taken.
const FIRST_PORT = 3340;
const LAST_PORT = 3399;

async function listenInRange(server: Server, first: number, last: number): Promise<number> {
  for (let port = first; port <= last; port++) {
    const bound = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off("listening", onListening);
        if (error.code === "EADDRINUSE") resolve(false);
        else reject(error);
      };
      const onListening = () => {
        server.off("error", onError);
        resolve(true);
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, "127.0.0.1");
    });
    if (bound) return (server.address() as AddressInfo).port;
  }
  throw new Error(`No free port between ${first} and ${last} for the PostHog stand-in`);
}

export type DefinitionsServer = { url: string; definitionRequests: () => number; close: () => Promise<void> };

export async function startDefinitionsServer(definitions: PostHogDefinitions): Promise<DefinitionsServer> {
  const body = JSON.stringify(definitions);
  let definitionRequests = 0;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    request.resume();
    if (path === "/flags/definitions" || path === "/api/feature_flag/local_evaluation") {
      definitionRequests++;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(body);
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end("{}");
  });
  const port = await listenInRange(server, FIRST_PORT, LAST_PORT);
  return {
    url: `http://127.0.0.1:${port}`,
    definitionRequests: () => definitionRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
