import { initTRPC, TRPCError } from "@trpc/server";
import type { Session } from "next-auth";
import superjson from "superjson";
import { ZodError } from "zod";
import { getDb } from "../db/client";
import { logger } from "../logger";

export type CreateContextOptions = { headers: Headers; session: Session | null };

/** Per-request context. The database client is the process-wide one; nothing connects here. */
export function createTRPCContext(options: CreateContextOptions) {
  return { db: getDb(), session: options.session, headers: options.headers };
}
export type TRPCContext = ReturnType<typeof createTRPCContext>;

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // Internal errors never reach the client with their message; validation errors name the field.
    const isInternal = error.code === "INTERNAL_SERVER_ERROR";
    const fieldErrors = error.cause instanceof ZodError ? error.cause.flatten().fieldErrors : null;
    return {
      ...shape,
      message: isInternal ? "Internal server error" : shape.message,
      data: { ...shape.data, stack: undefined, fieldErrors },
    };
  },
});

const logInternalErrors = t.middleware(async ({ next, path, type }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    logger.error("tRPC procedure failed", { path, type, error: String(result.error.cause ?? result.error) });
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(logInternalErrors);

/** Admin procedures: the role is checked on the server for every call. */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  if (ctx.session.user.role !== "ADMIN") throw new TRPCError({ code: "FORBIDDEN", message: "Admins only" });
  return next({ ctx: { ...ctx, session: ctx.session } });
});
