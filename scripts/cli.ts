import { DatabaseUnavailableError } from "@/server/db/connection";
import { EnvError } from "@/server/env";

/** Known start-up failures print one clear line; anything else keeps its stack for debugging. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
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
