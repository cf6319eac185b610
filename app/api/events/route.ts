import { getSessionIfSignedIn } from "@/server/auth/session";
import { handleEventBeacon } from "@/server/events/beacon";

/** `navigator.sendBeacon` target for events left in the queue when a page is hidden. */
export async function POST(request: Request): Promise<Response> {
  return handleEventBeacon(request, { getSession: getSessionIfSignedIn });
}
