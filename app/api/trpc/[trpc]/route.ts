import { createTRPCHttpHandler } from "@/server/api/http";
import { getSessionIfSignedIn } from "@/server/auth/session";

const handler = createTRPCHttpHandler({ getSession: (req) => getSessionIfSignedIn(req.headers) });

export { handler as GET, handler as POST };
