import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { getSession } from "@/server/auth/session";

/** tRPC for server components: the same procedures, called in-process, once per request. */
export const getServerApi = cache(async () => {
  const [requestHeaders, session] = await Promise.all([headers(), getSession()]);
  return createCaller(createTRPCContext({ headers: new Headers(requestHeaders), session }));
});
