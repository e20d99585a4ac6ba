-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "measurement_batches" (
    "run_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "batch" INTEGER NOT NULL,
    "rows" INTEGER NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "measurement_batches_pkey" PRIMARY KEY ("run_id","attempt","batch")
);

-- AddForeignKey
ALTER TABLE "measurement_batches" ADD CONSTRAINT "measurement_batches_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
