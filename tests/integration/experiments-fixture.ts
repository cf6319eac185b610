import type { Session } from "next-auth";
import { afterAll, beforeAll } from "vitest";
import type { ExperimentConfigInput } from "@/features/experiments/core/config";
import { createExperimentServices, type ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { seedDatabase } from "@/server/seed";
import { createTestDatabase, type DatabaseKind, type TestDatabase } from "./databases";

export const ADMIN = { id: null, email: "admin@test.local" };

let counter = 0;
/** A fresh, valid slug per call, so tests sharing a database never collide. */
export function uniqueSlug(prefix = "exp"): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export function servicesFor(
  test: TestDatabase,
  options: Parameters<typeof createExperimentServices>[2] = {},
): ExperimentServices {
  return createExperimentServices(test.db, test.target, options);
}

/** Passwords for the seeded admin and member (the seed would otherwise make random ones). */
const SEEDED_PASSWORDS = { adminPassword: "admin-password", memberPassword: "member-password" };

/**
 * A fresh database of `kind` with services on it, for the enclosing describe block: made before
 * its first test (seeded with the demo admin, member and experiment when `seeded`), handed to
 * `setUp`, which keeps what it needs and prepares the rest, and closed and dropped after its last.
 */
export function withFreshServices(
  kind: DatabaseKind,
  options: { seeded?: boolean },
  setUp: (test: TestDatabase, services: ExperimentServices) => void | Promise<void>,
): void {
  let test: TestDatabase | undefined;
  let services: ExperimentServices | undefined;
  beforeAll(async () => {
    test = await createTestDatabase(kind);
    if (options.seeded) await seedDatabase(test.db, SEEDED_PASSWORDS);
    services = servicesFor(test);
    await services.listening;
    await setUp(test, services);
  });
  afterAll(async () => {
    await services?.close();
    await test?.drop();
  });
}

/** {@link withFreshServices} as an object: read `test` and `services` inside the tests. */
export function freshServices(kind: DatabaseKind): { test: TestDatabase; services: ExperimentServices } {
  const context = {} as { test: TestDatabase; services: ExperimentServices };
  withFreshServices(kind, {}, (test, services) => {
    context.test = test;
    context.services = services;
  });
  return context;
}

/**
 * Services on a client that records every Prisma operation it runs (`model.operation`, or
 * `raw.$queryRawUnsafe` for the hand-written statements, which go through raw queries on an
 * extended client): what a test counts round trips with.
 */
export function meteredServices(
  test: TestDatabase,
  options: Parameters<typeof createExperimentServices>[2] = {},
): { services: ExperimentServices; operations: string[] } {
  const operations: string[] = [];
  const counted = test.db.$extends({
    query: {
      $allOperations({ model, operation, args, query }) {
        operations.push(`${model ?? "raw"}.${operation}`);
        return query(args);
      },
    },
  }) as unknown as typeof test.db;
  return { services: createExperimentServices(counted, test.target, options), operations };
}

/** Creates an experiment through the lifecycle service (as an admin would) and optionally starts it. */
export async function createExperiment(
  services: ExperimentServices,
  config: Partial<ExperimentConfigInput> & { scope?: ExperimentConfigInput["scope"] } = {},
  options: { start?: boolean; slug?: string } = {},
) {
  const slug = options.slug ?? uniqueSlug();
  await services.lifecycle.create(
    {
      slug,
      description: `test ${slug}`,
      config: {
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 50 },
        ],
        scope: "visitor",
        ...config,
      },
    },
    ADMIN,
  );
  if (options.start ?? true) await services.lifecycle.transition(slug, "start", ADMIN);
  return slug;
}

/** Who calls the tRPC endpoint in a test: the seeded admin or member, or nobody. */
export type Caller = "anonymous" | "member" | "admin";

/** The request header a test names its caller by. */
export const CALLER_HEADER = "x-test-caller";

/**
 * The tRPC endpoint on `services`, reached as the seeded admin or member, or anonymously, whichever
 * a request's CALLER_HEADER names (on a database set up with `{ seeded: true }`), and their sessions.
 */
export async function endpointForSeededCallers(test: TestDatabase, services: ExperimentServices) {
  const sessions: Partial<Record<Caller, Session>> = {};
  for (const role of ["ADMIN", "MEMBER"] as const) {
    const user = await test.db.user.findFirstOrThrow({ where: { role } });
    sessions[role === "ADMIN" ? "admin" : "member"] = {
      user: { id: user.id, email: user.email, role },
      expires: "2999-01-01T00:00:00.000Z",
    };
  }
  const handler = createTRPCHttpHandler({
    getSession: async (req) => sessions[req.headers.get(CALLER_HEADER) as Caller] ?? null,
    experiments: services,
  });
  return { handler, sessions };
}
