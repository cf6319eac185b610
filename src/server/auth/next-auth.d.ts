import type { DefaultSession } from "next-auth";
import type { Role } from "./options";

declare module "next-auth" {
  interface Session {
    user: DefaultSession["user"] & { id: string; role: Role };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    userId?: string;
    role?: Role;
    /** When the role was last read from the database (ms since the epoch); see role-refresh.ts. */
    roleCheckedAt?: number;
  }
}
