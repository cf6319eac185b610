import { type NextRequest, NextResponse } from "next/server";
import {
  isVisitorId,
  newVisitorId,
  VISITOR_COOKIE,
  VISITOR_COOKIE_MAX_AGE_SECONDS,
} from "@/features/experiments/core/visitor";

/**
 * Gives every browser a visitor id on its first request, before anything renders: the id is
 * added to this request's cookies (so server rendering already knows the visitor and its first
 * HTML carries the right variant) and set on the response for every later request.
 */
export function proxy(request: NextRequest) {
  if (isVisitorId(request.cookies.get(VISITOR_COOKIE)?.value)) return NextResponse.next();

  const visitorId = newVisitorId();
  request.cookies.set(VISITOR_COOKIE, visitorId);
  const response = NextResponse.next({ request: { headers: request.headers } });
  const forwardedProto = request.headers.get("x-forwarded-proto");
  response.cookies.set(VISITOR_COOKIE, visitorId, {
    path: "/",
    maxAge: VISITOR_COOKIE_MAX_AGE_SECONDS,
    sameSite: "lax",
    secure: (forwardedProto ?? request.nextUrl.protocol.replace(":", "")) === "https",
    // Readable by the browser on purpose: the client mirrors it in localStorage.
    httpOnly: false,
  });
  return response;
}

export const config = {
  // Pages only. API calls and the PostHog relay render nothing: a browser's calls follow a page
  // that set the cookie, the client SDK restores a lost one itself (client/visitor-id.ts), and a
  // server-to-server caller names its visitor in the input. Skipping the proxy there saves every
  // API request Next's proxy invocation, about a third of what a trivial route allocates.
  matcher: [
    "/((?!api/|ingest/|_next/static|_next/image|favicon.ico|.*\\.(?:png|jpg|jpeg|svg|webp|ico|txt|css|js)$).*)",
  ],
};
