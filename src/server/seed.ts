import { experimentConfigSchema } from "@/features/experiments/core/config";
import { toExperimentMetadata } from "@/features/experiments/server/metadata";
import type { PrismaClient } from "@/generated/prisma/client";
import { generatePassword, hashPassword } from "./auth/password";
import { seedResultsDemo } from "./seed-results-demo";

export const DEMO_TEAM_ID = "00000000-0000-4000-8000-00000000d3e0";
export const DEMO_EXPERIMENT_SLUG = "landing-hero";

export type SeedOptions = {
  adminEmail?: string;
  adminPassword?: string;
  memberEmail?: string;
  memberPassword?: string;
  now?: Date;
};

export type SeedResult = {
  createdUsers: { email: string; role: "ADMIN" | "MEMBER"; generatedPassword?: string }[];
  createdTeam: boolean;
  createdExperiment: boolean;
};

type SeedPerson = { email: string; password?: string; role: "ADMIN" | "MEMBER" };

/**
 * Creates a local account unless its email exists. Safe when several instances start at once: the
 * email is unique, so one insert wins, and only that run returns the generated password.
 */
async function createUserIfMissing(
  db: PrismaClient,
  person: SeedPerson,
): Promise<SeedResult["createdUsers"][number] | null> {
  const email = person.email.toLowerCase();
  if (await db.user.findUnique({ where: { email }, select: { id: true } })) return null;
  const password = person.password ?? generatePassword();
  const { count } = await db.user.createMany({
    data: [
      {
        email,
        name: person.role === "ADMIN" ? "Admin" : "Demo member",
        role: person.role,
        passwordHash: await hashPassword(password),
      },
    ],
    skipDuplicates: true,
  });
  if (count !== 1) return null;
  return { email, role: person.role, generatedPassword: person.password ? undefined : password };
}

/**
 * A first admin for a database that has none (a new PostgreSQL deployment), without any demo
 * data: from SEED_ADMIN_EMAIL / SEED_ADMIN_PASSWORD, or with a generated password returned once.
 */
export async function ensureAdmin(
  db: PrismaClient,
  options: { email?: string; password?: string } = {},
): Promise<SeedResult["createdUsers"][number] | null> {
  if (await db.user.findFirst({ where: { role: "ADMIN" }, select: { id: true } })) return null;
  return createUserIfMissing(db, {
    email: options.email ?? "admin@verdict.local",
    password: options.password,
    role: "ADMIN",
  });
}

/**
 * Idempotent demo data: an admin, a member, their team and the running `landing-hero` test.
 * Existing rows are never changed, so re-running it (or a second instance doing so at the same
 * time) is harmless; a generated password is returned only by the run that created the user.
 */
export async function seedDatabase(db: PrismaClient, options: SeedOptions = {}): Promise<SeedResult> {
  const now = options.now ?? new Date();
  const result: SeedResult = { createdUsers: [], createdTeam: false, createdExperiment: false };

  const people = [
    {
      email: options.adminEmail ?? "admin@verdict.local",
      password: options.adminPassword,
      role: "ADMIN" as const,
    },
    {
      email: options.memberEmail ?? "member@verdict.local",
      password: options.memberPassword,
      role: "MEMBER" as const,
    },
  ];
  for (const person of people) {
    const created = await createUserIfMissing(db, person);
    if (created) result.createdUsers.push(created);
  }

  const team = await db.team.createMany({
    data: [{ id: DEMO_TEAM_ID, name: "Demo team", plan: "TEAMS", organizationId: "org_demo" }],
    skipDuplicates: true,
  });
  result.createdTeam = team.count === 1;
  const members = await db.user.findMany({
    where: { email: { in: people.map((person) => person.email.toLowerCase()) } },
    select: { id: true, role: true },
  });
  await db.membership.createMany({
    data: members.map((member) => ({
      userId: member.id,
      teamId: DEMO_TEAM_ID,
      role: member.role === "ADMIN" ? ("OWNER" as const) : ("MEMBER" as const),
    })),
    skipDuplicates: true,
  });

  const config = experimentConfigSchema.parse({
    variants: [
      { name: "control", percentage: 50, description: "The current headline and call to action" },
      {
        name: "treatment",
        percentage: 50,
        description: "An outcome-led headline and a bolder call to action",
      },
    ],
    assignmentType: "deterministic",
    scope: "visitor",
    status: "running",
    startedAt: now.toISOString(),
    conversionEvents: ["cta_click"],
  });
  const experiment = await db.feature.createMany({
    data: [
      {
        slug: DEMO_EXPERIMENT_SLUG,
        type: "EXPERIMENT",
        enabled: true,
        description: "Landing page hero: does an outcome-led headline get more clicks on the call to action?",
        metadata: toExperimentMetadata(config),
      },
    ],
    skipDuplicates: true,
  });
  result.createdExperiment = experiment.count === 1;
  await seedDemoPageExperiments(db, now);
  await seedResultsDemo(db, now);
  return result;
}

/** The experiments behind the demo pages /pricing (users) and /team (teams). */
export const PRICING_EXPERIMENT_SLUG = "pricing-page";
export const TEAM_EXPERIMENT_SLUG = "team-dashboard-layout";

async function seedDemoPageExperiments(db: PrismaClient, now: Date): Promise<void> {
  const running = {
    assignmentType: "deterministic",
    status: "running",
    startedAt: now.toISOString(),
  } as const;
  const pricing = experimentConfigSchema.parse({
    ...running,
    scope: "user",
    variants: [
      { name: "control", percentage: 33.34, description: "Monthly prices first" },
      { name: "annual-first", percentage: 33.33, description: "Annual prices first, with the saving shown" },
      { name: "value-first", percentage: 33.33, description: "What each plan gets you, prices second" },
    ],
    conversionEvents: ["begin_checkout"],
  });
  const team = experimentConfigSchema.parse({
    ...running,
    scope: "team",
    variants: [
      { name: "control", percentage: 50, description: "The list dashboard" },
      { name: "cards", percentage: 50, description: "A card grid dashboard" },
    ],
    conversionEvents: ["dashboard_action"],
  });
  await db.feature.createMany({
    data: [
      {
        slug: PRICING_EXPERIMENT_SLUG,
        type: "EXPERIMENT",
        enabled: true,
        description: "Pricing page: which presentation makes signed-in users begin checkout?",
        metadata: toExperimentMetadata(pricing),
      },
      {
        slug: TEAM_EXPERIMENT_SLUG,
        type: "EXPERIMENT",
        enabled: true,
        description: "Team dashboard layout: every member of a team sees the same layout.",
        metadata: toExperimentMetadata(team),
      },
    ],
    skipDuplicates: true,
  });
}
