-- The mailer's claim on outbox rows (a lease: a crashed sender's rows become due again) and
-- what the relay answered.
ALTER TABLE sigov_outbox
  ADD COLUMN claim_token VARCHAR(64) NULL,
  ADD COLUMN claimed_at TIMESTAMP(6) NULL,
  ADD COLUMN message_id VARCHAR(255) NULL,
  ADD COLUMN last_response TEXT NULL;
CREATE INDEX sigov_outbox_claim ON sigov_outbox (claim_token);
CREATE INDEX sigov_outbox_recipient ON sigov_outbox (recipient_email);
