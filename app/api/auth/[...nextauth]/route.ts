import NextAuth from "next-auth";
import { getAuthOptions } from "@/server/auth/options";

type RouteContext = { params: Promise<{ nextauth: string[] }> };

function handler(req: Request, context: RouteContext) {
  return NextAuth(req as never, context as never, getAuthOptions());
}

export { handler as GET, handler as POST };
