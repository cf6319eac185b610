import { DatabaseUnavailableError } from "@/server/db/connection";
import { EnvError } from "@/server/env";

/** Known start-up failures print one clear line; anything else keeps its stack for debugging. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
    // Embedded Postgres (PGlite) leaves its interval timers armed after close, which would keep
    // a finished command alive for seconds; once the output is flushed there is nothing left to do.
    await flush(process.stdout);
    await flush(process.stderr);
    process.exit(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(`✗ Configuration error: ${error.problems.join("; ")}. See .env.example.`);
    } else if (error instanceof DatabaseUnavailableError) {
      console.error(`✗ ${error.message}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
