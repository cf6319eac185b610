import { z } from "zod";
import { conversionEventNameSchema, experimentSlugSchema, variantNameSchema } from "./config";
import { subjectIdsSchema } from "./inputs";
import { sha1Hex } from "./sha1";

/** Event names Verdict records (and later delivers to PostHog). */
export const EXPOSURE_EVENT = "experiment_viewed";
export const CONVERSION_EVENT = "experiment_conversion";
export const EVENT_SCHEMA_VERSION = 1;

export const consentStateSchema = z.enum(["granted", "denied", "pending", "not-required"]);
export type ConsentState = z.infer<typeof consentStateSchema>;

/** Property values a conversion may carry: flat and bounded. */
const propertyValue = z.union([z.string().max(500), z.number().finite(), z.boolean(), z.null()]);
export const eventPropertiesSchema = z
  .record(z.string().min(1).max(64), propertyValue)
  .refine((record) => Object.keys(record).length <= 30, "At most 30 properties");

const idempotencyKeySchema = z
  .string()
  .min(8)
  .max(100)
  .regex(/^[A-Za-z0-9._:-]+$/, "Idempotency keys use letters, digits and . _ : -");

/**
 * What the browser's tracker sends: exposures and conversions, batched. An event is for the
 * request's own subjects (session user, their first team, visitor cookie) unless it names a
 * `subject`: the explicit ids a hook asked its variant for, checked as `getVariant` checks them.
 */
export const trackedEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("exposure"),
    slug: experimentSlugSchema,
    variant: variantNameSchema,
    occurredAt: z.coerce.date().optional(),
    subject: subjectIdsSchema.optional(),
  }),
  z.object({
    type: z.literal("conversion"),
    slug: experimentSlugSchema,
    event: conversionEventNameSchema,
    properties: eventPropertiesSchema.optional(),
    idempotencyKey: idempotencyKeySchema,
    occurredAt: z.coerce.date().optional(),
    subject: subjectIdsSchema.optional(),
  }),
]);
export type TrackedEvent = z.infer<typeof trackedEventSchema>;

export const trackEventsInputSchema = z.object({
  events: z.array(trackedEventSchema).min(1).max(50),
});

/**
 * Property keys that usually carry personal data. Events carry none by default: such keys are
 * dropped before anything is stored, so they cannot reach PostHog either.
 */
const PII_KEY =
  /(e-?mail|phone|first_?name|last_?name|full_?name|^name$|address|^ip$|ip_?address|password|ssn)/i;

export function withoutPii<T extends Record<string, unknown>>(properties: T): Partial<T> {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !PII_KEY.test(key))) as Partial<T>;
}

/**
 * Keys whose values Verdict decides: who the event is about, which experiment and variant, how the
 * subject was assigned, where it came from. `$`-keys are PostHog's own (`$set`, `$feature/…`,
 * `$groups`, …): from a client they would rewrite person properties or flag breakdowns.
 */
const RESERVED_KEYS = new Set([
  "experiment_slug",
  "variant",
  "conversion_event",
  "assignment_type",
  "distinct_id",
  "ph_distinct_id",
  "user_id",
  "team_id",
  "visitor_id",
  "correlation_id",
  "session_id",
]);

export function isReservedPropertyKey(key: string): boolean {
  return key.startsWith("$") || key.startsWith("verdict_") || RESERVED_KEYS.has(key);
}

/**
 * What a client's own properties may contribute to an event: neither personal data nor any key
 * Verdict sets itself, so nothing the browser sends can change the event's person, experiment or
 * variant downstream (PostHog reads `ph_distinct_id`, `$feature/…` and `$set` as facts).
 */
export function clientProperties<T extends Record<string, unknown>>(properties: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(properties).filter(([key]) => !PII_KEY.test(key) && !isReservedPropertyKey(key)),
  ) as Partial<T>;
}

/**
 * A stable UUID (version-5 layout over SHA-1) for an idempotency key: the PostHog event `uuid`,
 * so a redelivered event is the same event to PostHog and never counts twice.
 */
export function eventUuid(idempotencyKey: string): string {
  return uuidFromSha1Hex(sha1Hex(eventUuidSource(idempotencyKey)));
}

/** What an event's uuid is the SHA-1 of (the server hashes it with node:crypto, faster). */
export function eventUuidSource(idempotencyKey: string): string {
  return `verdict-event:${idempotencyKey}`;
}

/** The version-5 UUID layout over the first 128 bits of a SHA-1 digest, in lowercase hex. */
export function uuidFromSha1Hex(hex: string): string {
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** How a consent state is stored on an event, and where the event may go because of it. */
export function storedConsent(consent: ConsentState) {
  const stored = {
    granted: "GRANTED",
    denied: "DENIED",
    pending: "PENDING",
    "not-required": "NOT_REQUIRED",
  } as const;
  // Held until answered, kept local when declined.
  const deliveryStatus =
    consent === "denied"
      ? ("LOCAL_ONLY" as const)
      : consent === "pending"
        ? ("HELD" as const)
        : ("PENDING" as const);
  return { consent: stored[consent], deliveryStatus };
}

/**
 * A subject's exposure: its idempotency key (one per experiment, phase and subject, however it is
 * recorded) and the properties PostHog breakdowns and funnels read.
 */
export function exposureRecord(input: {
  slug: string;
  phase: number;
  variant: string;
  assignmentType: string;
  subjectKey: string;
  setPersonProperty: boolean;
}): { idempotencyKey: string; properties: Record<string, unknown> } {
  const { slug, variant } = input;
  return {
    idempotencyKey: `exposure:${slug}:${input.phase}:${input.subjectKey}`,
    properties: {
      experiment_slug: slug,
      variant,
      assignment_type: input.assignmentType.toLowerCase(),
      [`$feature/${slug}`]: variant,
      ...(input.setPersonProperty ? { $set: { [`experiment_${slug}`]: variant } } : {}),
    },
  };
}
