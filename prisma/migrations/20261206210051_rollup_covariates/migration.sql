-- AlterTable
ALTER TABLE "experiment_rollup_refreshes" ADD COLUMN     "rebuiltAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "experiment_rollups_daily" ADD COLUMN     "covariateCross" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "covariateSquares" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "covariateSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "withHistory" INTEGER NOT NULL DEFAULT 0;
