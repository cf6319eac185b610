/**
 * Client weight (issue 8, 1e): the gzipped JavaScript Verdict's experiment provider and hooks add
 * to a page, against GrowthBook's and posthog-js's browser bundles.
 *
 *   npx tsx bench/client-weight.ts
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { packageVersion } from "./lib/machine";
import { type BenchResult, report } from "./lib/report";

const ROOT = process.cwd();
const TARGET_BYTES = 5_000;

/**
 * Packages every page of the app loads anyway, so the hooks add none of their bytes: React and
 * Next.js themselves, and the tRPC + TanStack Query client that app/layout.tsx mounts on every
 * page (TRPCReactProvider).
 */
const FRAMEWORK = [
  "react",
  "react-dom",
  "react/*",
  "react-dom/*",
  "next",
  "next/*",
  "@trpc/*",
  "@tanstack/*",
];
/** The rest of that layout's tRPC client: src/trpc/react.tsx and its superjson transformer. */
const LAYOUT_TRPC_CLIENT = ["@/trpc/react", "superjson"];

type Measured = { label: string; minified: number; gzipped: number; metafile?: Metafile };

function gzippedSize(code: Uint8Array | string): number {
  return gzipSync(code, { level: 9 }).length;
}

/** Bundles one entry the way a production page would get it: minified ESM for browsers. */
async function bundle(label: string, entry: { file: string } | { code: string }, external: string[]) {
  const result = await build({
    ...("file" in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.code, resolveDir: ROOT, loader: "ts" as const } }),
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    external,
    metafile: true,
    write: false,
    // "use client" directives are dropped when bundling; that is expected here.
    logLevel: "error",
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    label,
    minified: code.length,
    gzipped: gzippedSize(code),
    metafile: result.metafile,
  } satisfies Measured;
}

function publishedFile(label: string, relativePath: string): Measured {
  const code = readFileSync(path.join(ROOT, "node_modules", relativePath));
  return { label, minified: code.length, gzipped: gzippedSize(code) };
}

/** The inputs that weigh most in a bundle (minified bytes each contributes). */
function heaviestInputs(measured: Measured, count: number): string {
  const output = Object.values(measured.metafile?.outputs ?? {})[0];
  if (!output) return "";
  return Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .sort(([, left], [, right]) => right.bytesInOutput - left.bytesInOutput)
    .slice(0, count)
    .map(
      ([file, input]) =>
        `${file.replace(/^node_modules\//, "")} ${input.bytesInOutput.toLocaleString("en")} B`,
    )
    .join(", ");
}

const kilobytes = (bytes: number) => `${(bytes / 1000).toFixed(2)} kB`;

async function main() {
  const hooksEntry = { file: path.join(ROOT, "src/features/experiments/hooks.ts") };
  const verdictAdded = await bundle(
    "Verdict provider + hooks (`src/features/experiments/hooks.ts`), added to a page",
    hooksEntry,
    [...FRAMEWORK, ...LAYOUT_TRPC_CLIENT],
  );
  const verdictWithTrpcClient = await bundle(
    "Verdict provider + hooks, also counting the layout's tRPC client (src/trpc/react.tsx, superjson)",
    hooksEntry,
    FRAMEWORK,
  );
  const consentBanner = await bundle(
    "ConsentBanner (`client/analytics.tsx`, root layout; posthog-js is loaded only after consent, not counted)",
    { file: path.join(ROOT, "src/features/experiments/client/analytics.tsx") },
    [...FRAMEWORK, ...LAYOUT_TRPC_CLIENT, "posthog-js"],
  );
  const growthbookVersion = packageVersion("@growthbook/growthbook");
  const posthogVersion = packageVersion("posthog-js");
  const growthbookPublished = publishedFile(
    `@growthbook/growthbook ${growthbookVersion}: published browser bundle \`dist/bundles/index.min.js\``,
    "@growthbook/growthbook/dist/bundles/index.min.js",
  );
  const growthbookImport = await bundle(
    `@growthbook/growthbook ${growthbookVersion}: \`import { GrowthBook }\` bundled and minified`,
    { code: 'export { GrowthBook } from "@growthbook/growthbook";' },
    [],
  );
  const posthogPublished = publishedFile(
    `posthog-js ${posthogVersion}: published browser bundle \`dist/array.js\``,
    "posthog-js/dist/array.js",
  );
  const posthogImport = await bundle(
    `posthog-js ${posthogVersion}: \`import posthog from "posthog-js"\` bundled and minified`,
    { code: 'export { default } from "posthog-js";' },
    [],
  );

  const rows = [
    verdictAdded,
    verdictWithTrpcClient,
    consentBanner,
    growthbookPublished,
    growthbookImport,
    posthogPublished,
    posthogImport,
  ];
  const result: BenchResult = {
    id: "client-weight",
    title: "Client weight",
    method:
      "esbuild (minify, ESM, es2022, production) bundles of each entry, gzipped at level 9. Excluded from Verdict's bundle, " +
      "because every page already loads them: react, react-dom, next (the framework) and @trpc/*, @tanstack/* plus " +
      "src/trpc/react.tsx and superjson (the tRPC client app/layout.tsx mounts on every page). Peers: their published " +
      "minified browser bundles and an esbuild bundle of their main import.",
    columns: ["Bundle", "minified bytes", "gzipped bytes", "gzipped"],
    rows: rows.map((row) => [row.label, row.minified, row.gzipped, kilobytes(row.gzipped)]),
    ratios: [
      {
        label: "GrowthBook browser bundle / Verdict (gzipped)",
        value: growthbookPublished.gzipped / verdictAdded.gzipped,
      },
      {
        label: "posthog-js browser bundle / Verdict (gzipped)",
        value: posthogPublished.gzipped / verdictAdded.gzipped,
      },
    ],
    targets: [
      {
        label: "Provider and hooks add under 5 kB gzipped",
        met: verdictAdded.gzipped < TARGET_BYTES,
        detail: `${kilobytes(verdictAdded.gzipped)} added (${kilobytes(verdictWithTrpcClient.gzipped)} if the page did not already load the tRPC client)`,
      },
    ],
    notes: [
      `What weighs in Verdict's bundle (minified): ${heaviestInputs(verdictAdded, 8)}.`,
      `With the tRPC client counted: ${heaviestInputs(verdictWithTrpcClient, 5)}.`,
      "This benchmark found `useCartAttributes` importing core/orders.ts, whose zod schemas pulled all of zod " +
        "(~95 kB gzipped) into the client; the cart-attribute writer now lives in the zod-free core/cart-attributes.ts.",
    ],
  };
  report(result);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
