import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Server } from "node:http";
import { within } from "./deadline";

/**
 * Draining this process's HTTP server at shutdown. Next.js owns the server and does not hand it
 * to the app, and with NEXT_MANUAL_SIG_HANDLE (which lets the event dispatcher finish its batch)
 * its own shutdown, which would close it, does not run. Node announces every request on a
 * diagnostics channel with its server: the first one tells us which server to close.
 */
const REQUEST_START = "http.server.request.start";

const servers = new Set<Server>();

function noteServer(message: unknown): void {
  const server = (message as { server?: Server } | null)?.server;
  if (!server) return;
  servers.add(server);
  // Next.js serves from one server: once it is known, requests go back to costing nothing here.
  // After this publication, which would skip the next subscriber if its list shrank under it.
  process.nextTick(() => unsubscribe(REQUEST_START, noteServer));
}

let watching = false;

/** Starts watching for the server (once per process); call it before requests arrive. */
export function watchHttpServers(): void {
  if (watching) return;
  watching = true;
  subscribe(REQUEST_START, noteServer);
}

/** How often connections that have gone idle are ended while draining. */
const SWEEP_MS = 50;

export type DrainOutcome = "drained" | "timed-out";

/**
 * Stops accepting connections and waits for the requests in flight to be answered, at most
 * `graceMs`. `close()` ends the connections idle at that moment only: a keep-alive connection
 * busy then would stay open after its answer (and take more requests) until its keep-alive
 * timeout, so the idle ones are ended again every few milliseconds until none is left.
 */
export async function drainHttpServers(
  graceMs: number,
  from: Iterable<Server> = servers,
): Promise<DrainOutcome> {
  const open = [...from];
  if (!open.length) return "drained";
  const closed = Promise.all(
    open.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ).then(() => "drained" as const);
  const sweep = setInterval(() => {
    for (const server of open) server.closeIdleConnections();
  }, SWEEP_MS);
  try {
    return await within(closed, graceMs);
  } finally {
    clearInterval(sweep);
  }
}
