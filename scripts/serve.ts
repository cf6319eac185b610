// `npm run dev` and `npm start`: validate the environment, migrate (and on the embedded default's
// first start, seed), then hand over to Next.js. Migrating here rather than inside the server
// keeps `next build` and every request path free of database set-up.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { resolveAuthSecret } from "@/server/auth/secret";
import { prepareDatabase } from "@/server/bootstrap";
import { databaseTargetFromEnv } from "@/server/db/target";
import { getEnv } from "@/server/env";
import { serverNodeFlags } from "@/server/node-flags";
import { runCli } from "./cli";

const mode = process.argv[2];
if (mode !== "dev" && mode !== "start") {
  console.error("usage: tsx scripts/serve.ts dev|start [next options]");
  process.exit(2);
}

await runCli(async () => {
  const env = getEnv();
  const target = databaseTargetFromEnv(env);
  // `npm start` is production whatever NODE_ENV says here: on PostgreSQL every instance must share
  // AUTH_SECRET, so a missing one stops the start instead of minting one per machine.
  const secret = resolveAuthSecret(mode === "start" ? { ...env, NODE_ENV: "production" } : env);
  await prepareDatabase(target, env, {
    seed: target.kind === "pglite" ? "if-empty" : "admin-only",
    report: (line) => console.log(`• ${line}`),
  });

  const port = env.PORT ?? 3000;
  console.log(`• Verdict is starting on http://localhost:${port}`);
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  // Production only: the dev server's compiler wants V8's background threads.
  const nodeFlags = mode === "start" ? serverNodeFlags(availableParallelism(), process.env.NODE_OPTIONS) : [];
  const nextArgs = [nextBin, mode, "--port", String(port), ...process.argv.slice(3)];
  const child = spawn(process.execPath, [...nodeFlags, ...nextArgs], {
    stdio: "inherit",
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      AUTH_SECRET: secret,
      NEXTAUTH_SECRET: secret,
      NEXTAUTH_URL: env.NEXTAUTH_URL ?? `http://localhost:${port}`,
      // Next.js would exit on SIGTERM without waiting for the event dispatcher; with this it leaves
      // the signal to the app, which exits once the requests in flight are answered and the
      // dispatcher has finished its batch in flight (instrumentation.ts).
      NEXT_MANUAL_SIG_HANDLE: "true",
    },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  // The supervisor lives exactly as long as Next.js does and passes on its exit code.
  process.exitCode = await new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
});
