-- AlterTable
ALTER TABLE "registered_models" ADD COLUMN     "output" TEXT NOT NULL DEFAULT 'probabilities';
