// What a Next.js server process runs of Verdict at start (instrumentation.ts), and an HTTP server
// standing in for Next's: the shutdown tests send it signals as an orchestrator would. It stays up
// like a server does, until its own signal handling ends it. `GET /slow?ms=N` answers after N ms.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { register } from "../../instrumentation";

await register();
const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const ms = Number(url.searchParams.get("ms") ?? 0);
  setTimeout(() => response.end(`answered ${url.pathname}`), ms);
});
// Longer than any test: a connection left open after its answer would hold the exit this long.
server.keepAliveTimeout = 120_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
setInterval(() => {}, 60_000);
console.log(`ready ${(server.address() as AddressInfo).port}`);
