import { defineConfig } from "prisma/config";

// Used by Prisma's CLI only (`prisma generate`, and `prisma migrate deploy|status` where Prisma's
// engine binary can be had). The app itself connects through driver adapters (src/server/db).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/verdict" },
});
