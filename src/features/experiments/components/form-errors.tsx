import type { ZodError } from "zod";

/** Field path ("variants.1.name") → messages, from a zod error (the same schema the server uses). */
export type FieldErrors = Record<string, string[]>;

export function zodFieldErrors(error: ZodError | undefined): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error?.issues ?? []) {
    const key = issue.path.join(".") || "form";
    errors[key] = [...(errors[key] ?? []), issue.message];
  }
  return errors;
}

/** Messages for a field and everything inside it ("conversionEvents" and "conversionEvents.2"). */
export function errorsUnder(errors: FieldErrors, field: string): string[] {
  return Object.entries(errors)
    .filter(([key]) => key === field || key.startsWith(`${field}.`))
    .flatMap(([, messages]) => messages);
}

/** The server's answer to a failed mutation: its message, and field errors when validation failed. */
export function serverErrors(error: unknown): { message: string | null; fields: FieldErrors } {
  if (!error || typeof error !== "object") return { message: null, fields: {} };
  const { message, data } = error as { message?: string; data?: { fieldErrors?: FieldErrors | null } };
  return { message: message ?? "Something went wrong", fields: data?.fieldErrors ?? {} };
}

/** Splits "signup, cta_click  purchase" into event names. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

export function FieldError({ messages, id }: { messages?: string[]; id: string }) {
  if (!messages?.length) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {messages.join(" ")}
    </p>
  );
}
