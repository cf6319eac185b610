import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // PGlite ships its own WASM and data files, and the schema engine is WASM too: load them from
  // node_modules at run time instead of bundling them.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/schema-engine-wasm",
    "pg",
  ],
  experimental: { authInterrupts: true },
};

export default nextConfig;
