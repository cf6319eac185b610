// What a Next.js server process runs of Verdict at start (instrumentation.ts), and nothing else:
// the shutdown test sends it signals as an orchestrator would. It stays up like a server does,
// until its own signal handling ends it.
import { register } from "../../instrumentation";

await register();
setInterval(() => {}, 60_000);
console.log("ready");
