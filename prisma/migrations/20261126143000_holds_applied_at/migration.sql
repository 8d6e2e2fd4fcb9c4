-- AlterTable
ALTER TABLE "holds" ADD COLUMN     "applied_at" TIMESTAMPTZ(3);

