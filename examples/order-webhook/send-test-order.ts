// Sends a signed test order to Verdict's order webhook, as Shopify would:
//
//   ORDER_WEBHOOK_SECRET=<the server's secret> npx tsx examples/order-webhook/send-test-order.ts \
//     --url http://localhost:3000 --visitor <verdict_vid cookie value> pricing-abc=annual-first
//
// Only Node's own modules: copy it anywhere you can run TypeScript (or drop the types).
import { createHmac, randomInt } from "node:crypto";
import { pathToFileURL } from "node:url";

/** What Shopify puts in X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the exact body bytes. */
export function signShopifyBody(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

/** A trimmed `orders/create` payload. Verdict reads the fields marked ←; the rest is never stored. */
export function testOrder(input: {
  visitorId: string;
  experiments: Record<string, string>;
  orderId?: number;
  totalPrice?: string;
  currency?: string;
}) {
  const id = input.orderId ?? randomInt(1, 2 ** 47);
  return {
    id, // ←, the replay key: a second delivery of the same id records nothing
    admin_graphql_api_id: `gid://shopify/Order/${id}`, // ← (the id as text, exact for big ids)
    created_at: new Date().toISOString(), // ← when the purchase happened
    currency: input.currency ?? "EUR", // ←
    total_price: input.totalPrice ?? "49.00", // ← the purchase's value
    email: "buyer@example.com", // dropped: no personal data reaches the event store
    note_attributes: [
      // ← the cart attributes useCartAttributes() wrote before checkout
      { name: "verdict_visitor_id", value: input.visitorId },
      { name: "verdict_session_id", value: "test-session" },
      ...Object.entries(input.experiments).map(([slug, variant]) => ({
        name: `exp_${slug}`,
        value: variant,
      })),
    ],
  };
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
}

async function main() {
  const args = process.argv.slice(2);
  const url = option(args, "--url") ?? "http://localhost:3000";
  const visitorId = option(args, "--visitor");
  const secret = process.env.ORDER_WEBHOOK_SECRET;
  if (!secret || !visitorId) {
    console.error(
      "usage: ORDER_WEBHOOK_SECRET=… send-test-order.ts --visitor <id> [--url …] [slug=variant …]",
    );
    process.exit(2);
  }
  const experiments = Object.fromEntries(args.map((pair) => pair.split("=", 2) as [string, string]));
  // Sign the string you send, byte for byte: re-serialising the object would change the signature.
  const body = JSON.stringify(testOrder({ visitorId, experiments }));
  const response = await fetch(new URL("/api/webhooks/orders", url), {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Shopify-Topic": "orders/create",
      "X-Shopify-Hmac-Sha256": signShopifyBody(body, secret),
    },
    body,
  });
  // 200 {"recorded":2,"replay":false}: the plain purchase plus one conversion per attributed test.
  console.log(response.status, await response.text());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
