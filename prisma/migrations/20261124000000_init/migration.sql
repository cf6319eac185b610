-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "FeatureType" AS ENUM ('FLAG', 'EXPERIMENT');

-- CreateEnum
CREATE TYPE "AssignmentType" AS ENUM ('DETERMINISTIC', 'RANDOM');

-- CreateEnum
CREATE TYPE "AssignmentOrigin" AS ENUM ('ASSIGNED', 'VISITOR_CARRYOVER', 'FLAG_CONVERSION');

-- CreateEnum
CREATE TYPE "UserRole" AS ENUM ('ADMIN', 'MEMBER');

-- CreateEnum
CREATE TYPE "TeamPlan" AS ENUM ('INDIVIDUAL', 'TEAMS', 'ORGANIZATION');

-- CreateEnum
CREATE TYPE "MembershipRole" AS ENUM ('OWNER', 'MEMBER');

-- CreateEnum
CREATE TYPE "EventSource" AS ENUM ('SERVER', 'BROWSER', 'WEBHOOK');

-- CreateEnum
CREATE TYPE "ConsentState" AS ENUM ('GRANTED', 'DENIED', 'PENDING', 'NOT_REQUIRED');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'HELD', 'DELIVERED', 'LOCAL_ONLY', 'DEAD');

-- CreateTable
CREATE TABLE "Feature" (
    "slug" TEXT NOT NULL,
    "type" "FeatureType" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "description" TEXT NOT NULL DEFAULT '',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Feature_pkey" PRIMARY KEY ("slug")
);

-- CreateTable
CREATE TABLE "UserFeature" (
    "userId" UUID NOT NULL,
    "featureSlug" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UserFeature_pkey" PRIMARY KEY ("userId","featureSlug")
);

-- CreateTable
CREATE TABLE "TeamFeature" (
    "teamId" UUID NOT NULL,
    "featureSlug" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TeamFeature_pkey" PRIMARY KEY ("teamId","featureSlug")
);

-- CreateTable
CREATE TABLE "ExperimentVariant" (
    "id" UUID NOT NULL,
    "experimentSlug" TEXT NOT NULL,
    "phase" INTEGER NOT NULL DEFAULT 1,
    "variant" TEXT NOT NULL,
    "userId" TEXT,
    "teamId" TEXT,
    "visitorId" TEXT,
    "assignmentType" "AssignmentType" NOT NULL,
    "origin" "AssignmentOrigin" NOT NULL DEFAULT 'ASSIGNED',
    "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "firstExposedAt" TIMESTAMP(3),
    "metadata" JSONB,

    CONSTRAINT "ExperimentVariant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "emailVerified" TIMESTAMP(3),
    "image" TEXT,
    "passwordHash" TEXT,
    "role" "UserRole" NOT NULL DEFAULT 'MEMBER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Team" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "plan" "TeamPlan" NOT NULL DEFAULT 'INDIVIDUAL',
    "organizationId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Team_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Membership" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "role" "MembershipRole" NOT NULL DEFAULT 'MEMBER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Membership_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "refresh_token" TEXT,
    "access_token" TEXT,
    "expires_at" INTEGER,
    "token_type" TEXT,
    "scope" TEXT,
    "id_token" TEXT,
    "session_state" TEXT,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" UUID NOT NULL,
    "sessionToken" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VerificationToken" (
    "identifier" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL
);

-- CreateTable
CREATE TABLE "Event" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "userId" TEXT,
    "teamId" TEXT,
    "visitorId" TEXT,
    "experimentSlug" TEXT,
    "variant" TEXT,
    "phase" INTEGER,
    "properties" JSONB NOT NULL DEFAULT '{}',
    "correlationId" TEXT,
    "source" "EventSource" NOT NULL,
    "schemaVersion" INTEGER NOT NULL DEFAULT 1,
    "idempotencyKey" TEXT NOT NULL,
    "consent" "ConsentState" NOT NULL DEFAULT 'NOT_REQUIRED',
    "deliveryStatus" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "deliveredAt" TIMESTAMP(3),

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" UUID NOT NULL,
    "actorId" UUID,
    "actorEmail" TEXT,
    "action" TEXT NOT NULL,
    "experimentSlug" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Feature_type_enabled_idx" ON "Feature"("type", "enabled");

-- CreateIndex
CREATE INDEX "UserFeature_featureSlug_enabled_idx" ON "UserFeature"("featureSlug", "enabled");

-- CreateIndex
CREATE INDEX "TeamFeature_featureSlug_enabled_idx" ON "TeamFeature"("featureSlug", "enabled");

-- CreateIndex
CREATE INDEX "ExperimentVariant_experimentSlug_phase_variant_idx" ON "ExperimentVariant"("experimentSlug", "phase", "variant");

-- CreateIndex
CREATE INDEX "ExperimentVariant_experimentSlug_assignedAt_idx" ON "ExperimentVariant"("experimentSlug", "assignedAt");

-- CreateIndex
CREATE INDEX "ExperimentVariant_userId_idx" ON "ExperimentVariant"("userId");

-- CreateIndex
CREATE INDEX "ExperimentVariant_teamId_idx" ON "ExperimentVariant"("teamId");

-- CreateIndex
CREATE INDEX "ExperimentVariant_visitorId_idx" ON "ExperimentVariant"("visitorId");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentVariant_experimentSlug_phase_userId_key" ON "ExperimentVariant"("experimentSlug", "phase", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentVariant_experimentSlug_phase_teamId_key" ON "ExperimentVariant"("experimentSlug", "phase", "teamId");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentVariant_experimentSlug_phase_visitorId_key" ON "ExperimentVariant"("experimentSlug", "phase", "visitorId");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Team_organizationId_idx" ON "Team"("organizationId");

-- CreateIndex
CREATE INDEX "Membership_teamId_idx" ON "Membership"("teamId");

-- CreateIndex
CREATE UNIQUE INDEX "Membership_userId_teamId_key" ON "Membership"("userId", "teamId");

-- CreateIndex
CREATE INDEX "Account_userId_idx" ON "Account"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Account_provider_providerAccountId_key" ON "Account"("provider", "providerAccountId");

-- CreateIndex
CREATE UNIQUE INDEX "Session_sessionToken_key" ON "Session"("sessionToken");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "VerificationToken_token_key" ON "VerificationToken"("token");

-- CreateIndex
CREATE UNIQUE INDEX "VerificationToken_identifier_token_key" ON "VerificationToken"("identifier", "token");

-- CreateIndex
CREATE UNIQUE INDEX "Event_idempotencyKey_key" ON "Event"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Event_deliveryStatus_nextAttemptAt_idx" ON "Event"("deliveryStatus", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Event_experimentSlug_name_occurredAt_idx" ON "Event"("experimentSlug", "name", "occurredAt");

-- CreateIndex
CREATE INDEX "Event_visitorId_idx" ON "Event"("visitorId");

-- CreateIndex
CREATE INDEX "AuditLog_experimentSlug_at_idx" ON "AuditLog"("experimentSlug", "at");

-- AddForeignKey
ALTER TABLE "UserFeature" ADD CONSTRAINT "UserFeature_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserFeature" ADD CONSTRAINT "UserFeature_featureSlug_fkey" FOREIGN KEY ("featureSlug") REFERENCES "Feature"("slug") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamFeature" ADD CONSTRAINT "TeamFeature_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamFeature" ADD CONSTRAINT "TeamFeature_featureSlug_fkey" FOREIGN KEY ("featureSlug") REFERENCES "Feature"("slug") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentVariant" ADD CONSTRAINT "ExperimentVariant_experimentSlug_fkey" FOREIGN KEY ("experimentSlug") REFERENCES "Feature"("slug") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Account" ADD CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An assignment belongs to exactly one subject. Hand-written: Prisma has no syntax for CHECK constraints.
ALTER TABLE "ExperimentVariant" ADD CONSTRAINT "ExperimentVariant_one_subject_check"
  CHECK (num_nonnulls("userId", "teamId", "visitorId") = 1);
