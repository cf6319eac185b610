-- CreateTable
CREATE TABLE "experiment_rollups_daily" (
    "day" DATE NOT NULL,
    "experimentSlug" TEXT NOT NULL,
    "phase" INTEGER NOT NULL,
    "variant" TEXT NOT NULL,
    "exposures" INTEGER NOT NULL DEFAULT 0,
    "conversions" JSONB NOT NULL DEFAULT '{}',
    "revenue" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "currency" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "experiment_rollups_daily_pkey" PRIMARY KEY ("day","experimentSlug","phase","variant")
);

-- CreateIndex
CREATE INDEX "experiment_rollups_daily_experimentSlug_phase_idx" ON "experiment_rollups_daily"("experimentSlug", "phase");
