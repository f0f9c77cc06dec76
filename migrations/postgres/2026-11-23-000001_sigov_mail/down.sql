DROP INDEX sigov_outbox_recipient;
DROP INDEX sigov_outbox_claim;
ALTER TABLE sigov_outbox
  DROP COLUMN last_response,
  DROP COLUMN message_id,
  DROP COLUMN claimed_at,
  DROP COLUMN claim_token;
