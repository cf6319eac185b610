import { type ChildProcess, spawn } from "node:child_process";

/**
 * App processes for the e2e specs that run their own servers on PostgreSQL (the multi-instance
 * spec): a script of the checkout, `npm start` as its supervisor runs it, and a clean stop.
 */

export type AppInstance = { base: string; output: string[] };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a script of the app (as npm scripts do) and fails with its output if it fails. */
export function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { env });
    const output: string[] = [];
    child.stdout.on("data", (chunk) => output.push(String(chunk)));
    child.stderr.on("data", (chunk) => output.push(String(chunk)));
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited ${code}:\n${output.join("")}`)),
    );
  });
}

/**
 * `npm start` on `port`, resolved once its health check answers. The process goes into `started`
 * before it is healthy, so a caller's cleanup stops it even after a failed start.
 */
export async function startApp(
  port: number,
  env: NodeJS.ProcessEnv,
  started: ChildProcess[],
): Promise<AppInstance> {
  // Its own process group, so stopping it reaches next start behind the supervisor too.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/serve.ts", "start"], {
    env,
    detached: true,
  });
  started.push(child);
  const instance: AppInstance = { base: `http://127.0.0.1:${port}`, output: [] };
  for (const stream of [child.stdout, child.stderr])
    stream?.on("data", (chunk) => instance.output.push(String(chunk)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance on ${port} exited:\n${instance.output.join("")}`);
    const health = await fetch(`${instance.base}/api/trpc/health.check`).catch(() => null);
    if (health?.ok) return instance;
    if (Date.now() > deadline) throw new Error(`instance on ${port} never became healthy`);
    await sleep(250);
  }
}

/** SIGTERM to the process group (the app drains), SIGKILL after 10 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
