import type { inferRouterInputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

/**
 * The exact input of `admin.experiments.create` (the admin console's "Create draft" sends the same
 * object). Typing the examples with the router's own input type means the type-check fails the
 * moment an example drifts from what the API accepts.
 */
export type CreateExperimentInput = inferRouterInputs<AppRouter>["admin"]["experiments"]["create"];

/** The input of `admin.experiments.update`: a partial change plus the version you read. */
export type UpdateExperimentInput = inferRouterInputs<AppRouter>["admin"]["experiments"]["update"];
