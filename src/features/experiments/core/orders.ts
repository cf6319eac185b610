import { z } from "zod";
import { CART_ATTRIBUTE, type CartAttribute, EXPERIMENT_ATTRIBUTE_PREFIX } from "./cart-attributes";
import { experimentSlugSchema, variantNameSchema } from "./config";
import { isVisitorId } from "./visitor";

/**
 * Purchases are attributed on the server: before checkout the browser writes these cart
 * attributes, the shop copies them onto the order, and the order webhook reads them back. Nothing
 * here trusts the browser beyond shape; the server prefers its own stored assignment.
 * The browser's half lives in ./cart-attributes, which stays free of zod for the client bundle.
 */
export {
  CART_ATTRIBUTE,
  type CartAttribute,
  cartAttributes,
  EXPERIMENT_ATTRIBUTE_PREFIX,
} from "./cart-attributes";
export const PURCHASE_EVENT = "purchase";

/** A cart names at most this many experiments; more would only be a way to make us do work. */
export const MAX_CART_EXPERIMENTS = 50;

// Shopify writes attribute values as strings, but other apps editing the cart are not as careful.
const noteAttributeSchema = z.object({
  name: z.string().max(255),
  value: z
    .union([z.string(), z.number(), z.boolean(), z.null()])
    .transform((value) => (value === null ? "" : String(value))),
});

// The order id becomes part of idempotency keys, so it is limited to characters those allow.
const orderIdString = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "An order id uses 1-64 letters, digits, '.', '_' or '-'");
const orderIdNumber = z
  .number()
  .int()
  .nonnegative()
  .refine(Number.isSafeInteger, "The order id is too large to read exactly; send it as a string");
const SHOPIFY_ORDER_GID = /^gid:\/\/shopify\/Order\/(\d{1,30})$/;

/** The parts of a Shopify `orders/create` payload we use; everything else (customer, addresses) is dropped. */
export const shopifyOrderSchema = z
  .object({
    id: z.union([orderIdNumber, orderIdString]),
    // Carries the id as text, exact even where the numeric `id` would lose digits in JSON.parse.
    admin_graphql_api_id: z.string().optional(),
    total_price: z
      .string()
      .trim()
      .regex(/^\d{1,15}(\.\d{1,6})?$/, 'A price is a non-negative decimal string such as "19.99"')
      .transform(Number),
    currency: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{3}$/, "A currency is a 3-letter ISO 4217 code")
      .transform((code) => code.toUpperCase()),
    created_at: z.iso.datetime({ offset: true }).transform((text) => new Date(text)),
    note_attributes: z.array(noteAttributeSchema).max(500).default([]),
  })
  .transform(({ id, admin_graphql_api_id, ...order }) => ({
    ...order,
    orderId: admin_graphql_api_id?.match(SHOPIFY_ORDER_GID)?.[1] ?? String(id),
  }));
export type ShopifyOrder = z.output<typeof shopifyOrderSchema>;

export type ParsedCartAttributes = {
  visitorId?: string;
  sessionId?: string;
  phDistinctId?: string;
  /** slug → variant, as the browser saw it. */
  variants: Record<string, string>;
};

const SESSION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * PostHog distinct ids are free-form, but an id that looks like an email address is personal
 * data we would otherwise store and forward; such an id is ignored (the visitor id stands in).
 */
function isSafeDistinctId(value: string): boolean {
  return value.length > 0 && value.length <= 200 && !value.includes("@") && !/[\s\p{Cc}]/u.test(value);
}

/** Reads the cart attributes back from an order; malformed ones are ignored, the first valid one wins. */
export function parseCartAttributes(noteAttributes: readonly CartAttribute[]): ParsedCartAttributes {
  const parsed: ParsedCartAttributes = { variants: {} };
  for (const { name, value: raw } of noteAttributes) {
    const value = raw.trim();
    if (name === CART_ATTRIBUTE.visitorId) {
      if (!parsed.visitorId && isVisitorId(value)) parsed.visitorId = value;
    } else if (name === CART_ATTRIBUTE.sessionId) {
      if (!parsed.sessionId && SESSION_ID.test(value)) parsed.sessionId = value;
    } else if (name === CART_ATTRIBUTE.phDistinctId) {
      if (!parsed.phDistinctId && isSafeDistinctId(value)) parsed.phDistinctId = value;
    } else if (name.startsWith(EXPERIMENT_ATTRIBUTE_PREFIX)) {
      const slug = experimentSlugSchema.safeParse(name.slice(EXPERIMENT_ATTRIBUTE_PREFIX.length));
      const variant = variantNameSchema.safeParse(value);
      if (!slug.success || !variant.success || slug.data in parsed.variants) continue;
      if (Object.keys(parsed.variants).length >= MAX_CART_EXPERIMENTS) continue;
      parsed.variants[slug.data] = variant.data;
    }
  }
  return parsed;
}
