import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

type Glue = typeof import("@prisma/schema-engine-wasm/schema_engine_bg") & {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
};

let compiled: Promise<{ glue: Glue; module: WebAssembly.Module }> | undefined;

// The package's main entry imports the .wasm as an ES module, which Node only does behind a flag.
// Its JS glue is importable on its own, so compile the .wasm ourselves and hand it over.
async function compileEngine() {
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const bytes = await readFile(path.join(packageDir, "schema_engine_bg.wasm"));
  const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as Glue;
  return { glue, module: new WebAssembly.Module(bytes) };
}

let initialised = false;

/**
 * The engine arms a 10-second timer around every advisory-lock wait and never clears it, which
 * kept each CLI command alive for 10 s after its work was done. Its timers are made `unref`: a
 * pending lock wait still keeps the process alive through its database connection.
 */
function withUnrefTimers(imports: WebAssembly.ModuleImports): WebAssembly.ModuleImports {
  const wrapped: WebAssembly.ModuleImports = { ...imports };
  for (const name of Object.keys(imports)) {
    if (!name.startsWith("__wbg_setTimeout_")) continue;
    wrapped[name] = (callback: () => void, milliseconds: number) => {
      const timer = setTimeout(callback, milliseconds >>> 0);
      timer.unref();
      return timer;
    };
  }
  return wrapped;
}

/**
 * A schema engine talking to the database behind `factory`. The glue keeps module-level state, so
 * the WASM instance is created once per process and shared by every engine.
 */
export async function createSchemaEngine(
  factory: SqlMigrationAwareDriverAdapterFactory,
  onLog: (message: string) => void = () => {},
): Promise<SchemaEngine> {
  compiled ??= compileEngine();
  const { glue, module } = await compiled;
  if (!initialised) {
    const instance = new WebAssembly.Instance(module, {
      "./schema_engine_bg.js": withUnrefTimers(glue as unknown as WebAssembly.ModuleImports),
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    initialised = true;
  }
  return glue.SchemaEngine.new(
    { datamodels: undefined },
    (message: string) => onLog(message),
    bindMigrationAwareSqlAdapterFactory(factory),
  );
}

/** Runs `work` with an engine and always frees it. */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const engine = await createSchemaEngine(factory);
  try {
    return await work(engine);
  } finally {
    engine.free();
  }
}
