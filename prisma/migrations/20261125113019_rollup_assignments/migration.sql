-- AlterTable
ALTER TABLE "experiment_rollups_daily" ADD COLUMN     "assignments" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "revenueSquares" DOUBLE PRECISION NOT NULL DEFAULT 0;
