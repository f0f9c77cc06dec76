DROP INDEX sigov_outbox_recipient;
DROP INDEX sigov_outbox_claim;
ALTER TABLE sigov_outbox DROP COLUMN last_response;
ALTER TABLE sigov_outbox DROP COLUMN message_id;
ALTER TABLE sigov_outbox DROP COLUMN claimed_at;
ALTER TABLE sigov_outbox DROP COLUMN claim_token;
