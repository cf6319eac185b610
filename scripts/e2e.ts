// `npm run test:e2e`: build the app, then run Playwright (Debian's Chromium) against `next start`
// on a fresh PGlite folder, which is removed afterwards. E2E_SKIP_BUILD=1 reuses an existing build
// (CI builds once, just before).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

function run(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  return result.status ?? 1;
}

const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
// The e2e server always runs on its own embedded database, whatever the shell points at.
delete env.DATABASE_URL;

if (process.env.E2E_SKIP_BUILD !== "1" || !existsSync(".next/BUILD_ID")) {
  console.log("• Building the app (next build)");
  const status = run(process.execPath, ["node_modules/next/dist/bin/next", "build"], env);
  if (status !== 0) process.exit(status);
}

const dataRoot = mkdtempSync(path.join(tmpdir(), "verdict-e2e-"));
env.E2E_PGLITE_DATA_DIR = path.join(dataRoot, "pglite");
console.log(`• Fresh embedded database in ${env.E2E_PGLITE_DATA_DIR}`);
let status = 1;
try {
  status = run(
    process.execPath,
    ["node_modules/@playwright/test/cli.js", "test", ...process.argv.slice(2)],
    env,
  );
} finally {
  rmSync(dataRoot, { recursive: true, force: true });
}
process.exit(status);
