/**
 * Node.js flags `npm start` gives the Next.js server process.
 *
 * V8 runs its background garbage-collection work (concurrent marking, parallel scavenges,
 * sweeping) on a pool of 4 threads whatever the machine has. Next.js keeps most of each request's
 * objects past two minor collections (about 30 kB a request, measured on its trivial route
 * handler), so the old generation fills in seconds under load and a major collection follows
 * every 15-20 s at a few hundred requests per second. On a small machine its 4 helper threads
 * take every core from the request thread while they mark: in the HTTP benchmark (2 cores,
 * PostgreSQL on the same machine) those collections held requests for 80-170 ms, and one helper
 * thread halved the number of requests slower than 50 ms. Leaving a core to the request thread
 * costs nothing on larger machines: from 5 cores up, the pool keeps V8's 4.
 */
const V8_DEFAULT_POOL_SIZE = 4;

/** Helper threads for V8's background work: one core left to the request thread, at most V8's 4. */
export function v8PoolSizeFor(cores: number): number {
  return Math.min(V8_DEFAULT_POOL_SIZE, Math.max(1, Math.floor(cores) - 1));
}

/**
 * The flags to put before Next.js's script on the command line: none when the operator already
 * chose a pool size in NODE_OPTIONS (the command line would otherwise override it).
 */
export function serverNodeFlags(cores: number, nodeOptions: string | undefined): string[] {
  if (/(^|\s)--v8-pool-size(=|\s|$)/.test(nodeOptions ?? "")) return [];
  return [`--v8-pool-size=${v8PoolSizeFor(cores)}`];
}
