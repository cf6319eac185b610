import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Session } from "next-auth";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { RateLimitedError } from "../rate-limit";
import { appRouter } from "./root";
import { createTRPCContext } from "./trpc";

export type HttpHandlerOptions = {
  getSession: (req: Request) => Promise<Session | null>;
  /** Tests hand in services bound to their own database. */
  experiments?: ExperimentServices;
};

/** The tRPC endpoint as a fetch handler: the route file wires it to Next, tests call it directly. */
export function createTRPCHttpHandler(options: HttpHandlerOptions) {
  return (req: Request) =>
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext: async () =>
        createTRPCContext({
          headers: req.headers,
          session: await options.getSession(req),
          experiments: options.experiments,
        }),
      responseMeta({ errors }) {
        // Clients back off by the header, as HTTP intends for 429.
        const limited = errors.map((error) => error.cause).find((cause) => cause instanceof RateLimitedError);
        return limited ? { headers: new Headers({ "Retry-After": String(limited.retryAfterSeconds) }) } : {};
      },
    });
}
