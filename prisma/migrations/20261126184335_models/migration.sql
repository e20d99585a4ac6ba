-- CreateTable
CREATE TABLE "registered_models" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "input_shape" INTEGER[],
    "output_size" INTEGER NOT NULL,
    "class_names" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registered_models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registered_model_files" (
    "id" UUID NOT NULL,
    "model_id" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,

    CONSTRAINT "registered_model_files_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "registered_models_name_key" ON "registered_models"("name");

-- CreateIndex
CREATE UNIQUE INDEX "registered_model_files_model_id_path_key" ON "registered_model_files"("model_id", "path");

-- AddForeignKey
ALTER TABLE "registered_model_files" ADD CONSTRAINT "registered_model_files_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "registered_models"("id") ON DELETE CASCADE ON UPDATE CASCADE;
