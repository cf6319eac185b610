import { initTRPC, TRPCError } from "@trpc/server";
import type { Session } from "next-auth";
import superjson from "superjson";
import { ZodError } from "zod";
import { CONSENT_COOKIE, consentFromCookie } from "@/features/experiments/core/consent";
import { isVisitorId, readCookie, VISITOR_COOKIE } from "@/features/experiments/core/visitor";
import { type ExperimentServices, getExperimentServices } from "@/features/experiments/server/services";
import { privacySignalRefuses } from "../events/consent";
import { logger } from "../logger";
import { clientIp, createRateLimiter, RateLimitedError, type RateLimiter } from "../rate-limit";
import { toTRPCError } from "./errors";

export type CreateContextOptions = {
  headers: Headers;
  session: Session | null;
  experiments?: ExperimentServices;
};

/** Per-request context. Clients and services are the process-wide ones; nothing connects here. */
export function createTRPCContext(options: CreateContextOptions) {
  const experiments = options.experiments ?? getExperimentServices();
  const cookieHeader = options.headers.get("cookie");
  const cookieVisitor = readCookie(cookieHeader, VISITOR_COOKIE);
  const consent = readCookie(cookieHeader, CONSENT_COOKIE);
  return {
    db: experiments.repository.db,
    experiments,
    session: options.session,
    headers: options.headers,
    /** The visitor cookie, when well-formed (the proxy sets it on the first page's response). */
    visitorId: isVisitorId(cookieVisitor) ? cookieVisitor : null,
    consent: privacySignalRefuses(options.headers) ? ("denied" as const) : consentFromCookie(consent),
  };
}
export type TRPCContext = ReturnType<typeof createTRPCContext>;

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // Internal errors never reach the client with their message; validation errors name the field.
    const isInternal = error.code === "INTERNAL_SERVER_ERROR";
    const fieldErrors = error.cause instanceof ZodError ? error.cause.flatten().fieldErrors : null;
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      message: isInternal ? "Internal server error" : shape.message,
      data: { ...data, fieldErrors },
    };
  },
});

/** Domain errors become their tRPC codes here, once; unexpected ones are logged, never shown. */
const mapErrors = t.middleware(async ({ next, path, type }) => {
  const result = await next();
  if (result.ok) return result;
  const mapped = toTRPCError(result.error.cause);
  if (mapped) throw mapped;
  if (result.error.code === "INTERNAL_SERVER_ERROR") {
    logger.error("tRPC procedure failed", { path, type, error: String(result.error.cause ?? result.error) });
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);

export type RateLimitRule = {
  name: string;
  limiter: RateLimiter;
  key: (ctx: TRPCContext, input: unknown) => string | null;
};

/** Limits per client IP, and per whatever else a rule keys on (a visitor, a user). */
export function rateLimited(rules: RateLimitRule[]) {
  return t.middleware(async ({ ctx, next, getRawInput }) => {
    const input = await getRawInput().catch(() => undefined);
    for (const rule of rules) {
      const key = rule.key(ctx, input);
      if (!key) continue;
      // The limiter prefixes its own keys (rate-limit.ts), so the rule's key goes in as it is.
      const decision = await rule.limiter.consume(key);
      if (!decision.allowed) throw toTRPCError(new RateLimitedError(decision.retryAfterSeconds));
    }
    return next();
  });
}

export const perIp = (name: string, limit: number, windowMs = 60_000): RateLimitRule => ({
  name: `${name}:ip`,
  limiter: createRateLimiter({ name: `${name}:ip`, limit, windowMs }),
  key: (ctx) => clientIp(ctx.headers),
});

/** Admin procedures: the role is checked on the server for every call. */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  if (ctx.session.user.role !== "ADMIN") throw new TRPCError({ code: "FORBIDDEN", message: "Admins only" });
  return next({ ctx: { ...ctx, session: ctx.session } });
});
