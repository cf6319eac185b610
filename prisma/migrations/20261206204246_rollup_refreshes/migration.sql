-- CreateTable
CREATE TABLE "experiment_rollup_refreshes" (
    "experimentSlug" TEXT NOT NULL,
    "refreshedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "experiment_rollup_refreshes_pkey" PRIMARY KEY ("experimentSlug")
);

-- AddForeignKey
ALTER TABLE "experiment_rollup_refreshes" ADD CONSTRAINT "experiment_rollup_refreshes_experimentSlug_fkey" FOREIGN KEY ("experimentSlug") REFERENCES "Feature"("slug") ON DELETE CASCADE ON UPDATE CASCADE;
