-- A campaign completes by itself once its last step is done, unless the operators turn it off.
ALTER TABLE "campaigns" ADD COLUMN "auto_complete" BOOLEAN NOT NULL DEFAULT true;

-- How many of a campaign's users were E2EE-capable at each progress sample: the rate at which
-- users become capable (capability floors forecast from it). Older samples stay NULL.
ALTER TABLE "progress_samples" ADD COLUMN "capable" BIGINT;
