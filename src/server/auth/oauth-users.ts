import { Prisma, type PrismaClient } from "@/generated/prisma/client";

/**
 * Users for GitHub and Google sign-in. Verdict keeps JWT sessions and no next-auth database
 * adapter, so linking a provider's account to a Verdict user is done here, from the `signIn`
 * callback, and the session carries Verdict's user id (never the provider's).
 */
export type LinkedUser = { id: string; email: string; name: string | null; role: "ADMIN" | "MEMBER" };

export type OAuthIdentity = {
  provider: string;
  providerAccountId: string;
  /** next-auth's account type ("oauth"); stored as next-auth's own adapters would. */
  type: string;
  email: string | null | undefined;
  /** Whether the provider vouches that the person controls `email`. */
  emailVerified: boolean;
  name?: string | null;
  image?: string | null;
};

/** The reasons a sign-in is refused; they travel to the sign-in page as `?error=<code>`. */
export type OAuthRefusalCode = "OAuthNoEmail" | "OAuthEmailUnverified";

export class OAuthSignInRefused extends Error {
  constructor(readonly code: OAuthRefusalCode) {
    super(code);
    this.name = "OAuthSignInRefused";
  }
}

const USER_FIELDS = { id: true, email: true, name: true, role: true } as const;

export async function findUserByAccount(
  db: PrismaClient,
  provider: string,
  providerAccountId: string,
): Promise<LinkedUser | null> {
  const account = await db.account.findUnique({
    where: { provider_providerAccountId: { provider, providerAccountId } },
    select: { user: { select: USER_FIELDS } },
  });
  return account?.user ?? null;
}

/**
 * Finds or creates the user behind an OAuth sign-in:
 *
 * 1. an account already linked signs in as its user (even if the provider's email changed since);
 * 2. otherwise the user with the same email gets the account linked and keeps its role;
 * 3. otherwise a new member is created.
 *
 * Steps 2 and 3 trust the email, so they require the provider to have verified it: linking by an
 * unverified address would let anyone who types an admin's email into GitHub become that admin.
 */
export async function linkOAuthUser(db: PrismaClient, identity: OAuthIdentity): Promise<LinkedUser> {
  // Step 1 needs no email at all: the account itself is the proof.
  const linked = await findUserByAccount(db, identity.provider, identity.providerAccountId);
  if (linked) return linked;

  const email = identity.email?.trim().toLowerCase();
  if (!email) throw new OAuthSignInRefused("OAuthNoEmail");
  if (!identity.emailVerified) throw new OAuthSignInRefused("OAuthEmailUnverified");

  // Two first sign-ins at once (two tabs, a retried callback) must end with one user and one
  // account, not a unique-constraint error. Prisma runs these upserts as find-then-create (an
  // empty `update` is not done as INSERT ... ON CONFLICT), so the loser of such a race gets a
  // unique violation; trying once more then finds the winner's row.
  const user = await onceMoreOnConflict(() =>
    db.user.upsert({
      where: { email },
      create: {
        email,
        name: identity.name ?? null,
        image: identity.image ?? null,
        emailVerified: new Date(),
        role: "MEMBER",
      },
      update: {},
      select: USER_FIELDS,
    }),
  );
  // Provider tokens are not stored: Verdict never calls the provider after sign-in, and tokens
  // kept in the database would only be something to leak.
  const account = await onceMoreOnConflict(() =>
    db.account.upsert({
      where: {
        provider_providerAccountId: {
          provider: identity.provider,
          providerAccountId: identity.providerAccountId,
        },
      },
      create: {
        userId: user.id,
        type: identity.type,
        provider: identity.provider,
        providerAccountId: identity.providerAccountId,
      },
      update: {},
      select: { userId: true },
    }),
  );
  if (account.userId === user.id) return user;
  // Linked a moment earlier by a concurrent sign-in (to the same user, as the email is unique).
  return db.user.findUniqueOrThrow({ where: { id: account.userId }, select: USER_FIELDS });
}

async function onceMoreOnConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return write();
    throw error;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The current role, or null when the user no longer exists. */
export async function currentRole(db: PrismaClient, userId: string): Promise<LinkedUser["role"] | null> {
  // The column is a uuid: PostgreSQL rejects anything else with an error, not an empty result.
  if (!UUID.test(userId)) return null;
  const user = await db.user.findUnique({ where: { id: userId }, select: { role: true } });
  return user?.role ?? null;
}
