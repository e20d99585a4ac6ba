-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "details" JSONB;
