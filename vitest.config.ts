import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = fileURLToPath(new URL("./src", import.meta.url));

// Two projects: `unit` is pure and fast; `integration` talks to real databases
// (PGlite always, PostgreSQL when TEST_DATABASE_URL or DATABASE_URL is set).
export default defineConfig({
  resolve: { alias: { "@": src } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "src/**/*.test.ts",
            "src/**/*.test.tsx",
            "tests/unit/**/*.test.ts",
            "tests/unit/**/*.test.tsx",
          ],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
          environment: "node",
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["src/**/*.int.test.ts", "tests/integration/**/*.int.test.ts"],
          environment: "node",
          // Seeding the demo on PGlite takes 20-45 s on a slow day beside the rest of the suite: the
          // limits guard against hangs, not against a slow machine.
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // PGlite and the WASM schema engine are memory-hungry; two cores, so keep it small.
          maxWorkers: 2,
          // Unit tests first: they are fast and fail early.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
