-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "health_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "quarantine_reason" TEXT,
ADD COLUMN     "quarantined_at" TIMESTAMPTZ(3);
