ALTER TABLE sigov_outbox DROP COLUMN urgent;
