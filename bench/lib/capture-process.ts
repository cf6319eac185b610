import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CaptureServer } from "./capture-server";

/**
 * The loopback capture server in a process of its own, as PostHog is a server of its own: in the
 * benchmark's process it would answer deliveries only between autocannon's callbacks, and the
 * dispatcher would look as slow as the load generator is busy. Asked over IPC for its counts.
 */
type Request = { id: number; kind: "unique" | "arrivals" };
type Reply = { id: number; unique?: number; arrivals?: [string, number][] };

const CHILD_FLAG = "--verdict-capture-child";

export class CaptureProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: Reply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on("message", (reply: Reply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async start(): Promise<CaptureProcess> {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once("message", (message: { url?: string }) =>
        message.url ? resolve(message.url) : reject(new Error("capture server did not start")),
      );
      child.once("exit", (code) => reject(new Error(`capture server exited (${code})`)));
    });
    return new CaptureProcess(child, url);
  }

  private ask(kind: Request["kind"]): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, kind } satisfies Request);
    });
  }

  /** Distinct uuids received so far. */
  async unique(): Promise<number> {
    return (await this.ask("unique")).unique ?? 0;
  }

  /** Arrivals per uuid, and the duplicates among them. */
  async arrivals(): Promise<{
    arrivals: Map<string, number>;
    duplicates: { uuids: number; extraCopies: number };
  }> {
    const arrivals = new Map((await this.ask("arrivals")).arrivals ?? []);
    let uuids = 0;
    let extraCopies = 0;
    for (const count of arrivals.values()) {
      if (count > 1) {
        uuids += 1;
        extraCopies += count - 1;
      }
    }
    return { arrivals, duplicates: { uuids, extraCopies } };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}

if (process.argv.includes(CHILD_FLAG)) {
  const server = await new CaptureServer().start();
  process.on("message", (request: Request) => {
    const reply: Reply =
      request.kind === "unique"
        ? { id: request.id, unique: server.unique }
        : { id: request.id, arrivals: [...server.arrivals] };
    process.send?.(reply);
  });
  process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
  process.send?.({ url: server.url });
}
