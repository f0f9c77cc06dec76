-- The mailer's claim on outbox rows (a lease: a crashed sender's rows become due again) and
-- what the relay answered.
ALTER TABLE sigov_outbox
  ADD COLUMN claim_token VARCHAR(64) NULL,
  ADD COLUMN claimed_at DATETIME(6) NULL,
  ADD COLUMN message_id VARCHAR(255) NULL,
  ADD COLUMN last_response LONGTEXT NULL,
  ADD KEY sigov_outbox_claim (claim_token),
  ADD KEY sigov_outbox_recipient (recipient_email);
