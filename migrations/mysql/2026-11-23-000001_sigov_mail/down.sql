ALTER TABLE sigov_outbox
  DROP KEY sigov_outbox_recipient,
  DROP KEY sigov_outbox_claim,
  DROP COLUMN last_response,
  DROP COLUMN message_id,
  DROP COLUMN claimed_at,
  DROP COLUMN claim_token;
