/**
 * Domain errors of the experiments feature. Services throw these; one place at the edge
 * (src/server/api/errors.ts) maps them to tRPC codes. Each has a stable `code`.
 */
export class ExperimentError extends Error {
  constructor(
    readonly code:
      | "EXPERIMENT_NOT_FOUND"
      | "PHASE_NOT_FOUND"
      | "EXPERIMENT_EXISTS"
      | "INVALID_TRANSITION"
      | "INVALID_CHANGE"
      | "VERSION_CONFLICT"
      | "SCOPE_MISMATCH"
      | "SUBJECT_FORBIDDEN"
      | "ASSIGNMENT_UNAVAILABLE",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ExperimentError";
  }
}

export const experimentNotFound = (slug: string) =>
  new ExperimentError("EXPERIMENT_NOT_FOUND", `No experiment "${slug}"`);

export const scopeMismatch = (slug: string, scope: string, kind: string) =>
  new ExperimentError(
    "SCOPE_MISMATCH",
    `Experiment "${slug}" assigns by ${scope}, but a ${kind} id was given`,
  );

/** The database could not be used: the caller decides, deliberately, whether to render a default. */
export const assignmentUnavailable = (slug: string, cause: unknown) =>
  new ExperimentError("ASSIGNMENT_UNAVAILABLE", `Could not read or store the assignment for "${slug}"`, {
    cause,
  });
