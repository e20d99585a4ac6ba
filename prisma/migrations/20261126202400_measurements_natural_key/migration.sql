-- DropIndex
DROP INDEX "measurements_run_id_attempt_iteration_phase_key";

-- DropIndex
DROP INDEX "measurements_run_id_phase_idx";

-- AlterTable
ALTER TABLE "measurements" DROP CONSTRAINT "measurements_pkey",
DROP COLUMN "id",
ADD CONSTRAINT "measurements_pkey" PRIMARY KEY ("run_id", "attempt", "phase", "iteration");
