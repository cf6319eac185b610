import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { InvalidExperimentConfigError } from "@/features/experiments/core/config";
import { ExperimentError } from "@/features/experiments/server/errors";
import { RateLimitedError } from "../rate-limit";

const CODES: Record<ExperimentError["code"], TRPCError["code"]> = {
  EXPERIMENT_NOT_FOUND: "NOT_FOUND",
  PHASE_NOT_FOUND: "NOT_FOUND",
  EXPERIMENT_EXISTS: "CONFLICT",
  INVALID_TRANSITION: "BAD_REQUEST",
  INVALID_CHANGE: "BAD_REQUEST",
  VERSION_CONFLICT: "CONFLICT",
  SCOPE_MISMATCH: "BAD_REQUEST",
  SUBJECT_FORBIDDEN: "FORBIDDEN",
  ASSIGNMENT_UNAVAILABLE: "SERVICE_UNAVAILABLE",
};

/**
 * The one place domain errors become tRPC errors. Messages of domain errors are written for
 * people and safe to show; anything else stays an internal error whose text never leaves.
 */
export function toTRPCError(error: unknown): TRPCError | null {
  if (error instanceof TRPCError) return null;
  if (error instanceof ExperimentError) {
    const message =
      error.code === "ASSIGNMENT_UNAVAILABLE"
        ? "Assignments are unavailable right now; render the default"
        : error.message;
    return new TRPCError({ code: CODES[error.code], message, cause: error });
  }
  if (error instanceof InvalidExperimentConfigError) {
    return new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `Experiment "${error.slug}" has an invalid configuration; an admin must fix it`,
      cause: error,
    });
  }
  if (error instanceof RateLimitedError) {
    return new TRPCError({ code: "TOO_MANY_REQUESTS", message: error.message, cause: error });
  }
  return null;
}

/**
 * A plain JSON response for route handlers that call procedures directly: the tRPC error's HTTP
 * status and its client-safe message, never internal text.
 */
export function toResponseError(error: unknown): Response {
  const trpcError =
    error instanceof TRPCError
      ? error
      : (toTRPCError(error) ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR" }));
  const status = getHTTPStatusCodeFromError(trpcError);
  const message = trpcError.code === "INTERNAL_SERVER_ERROR" ? "Internal server error" : trpcError.message;
  return Response.json({ error: message, code: trpcError.code }, { status });
}
