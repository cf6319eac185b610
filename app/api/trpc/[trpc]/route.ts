import { getServerSession } from "next-auth";
import { createTRPCHttpHandler } from "@/server/api/http";
import { getAuthOptions } from "@/server/auth/options";

const handler = createTRPCHttpHandler({ getSession: () => getServerSession(getAuthOptions()) });

export { handler as GET, handler as POST };
