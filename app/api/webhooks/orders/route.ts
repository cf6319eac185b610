import { getExperimentServices } from "@/features/experiments/server/services";
import { getEnv } from "@/server/env";
import { handleOrderWebhook } from "@/server/events/orders";

/**
 * Shopify's `orders/create` webhook: purchases attributed to the experiments the buyer was in.
 * Only POST is exported, so Next answers every other method with 405.
 */
export async function POST(request: Request): Promise<Response> {
  return handleOrderWebhook(request, {
    services: getExperimentServices(),
    secret: getEnv().ORDER_WEBHOOK_SECRET,
  });
}
