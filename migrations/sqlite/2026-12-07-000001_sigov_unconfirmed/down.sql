UPDATE sigov_outbox SET state = 'dead' WHERE state = 'unconfirmed';
ALTER TABLE sigov_outbox DROP COLUMN unconfirmed;
