DROP INDEX sigov_outbox_batch;
ALTER TABLE sigov_outbox DROP COLUMN batch_key;
DROP TABLE sigov_preference;
