ALTER TABLE sigov_outbox ADD KEY sigov_outbox_recipient (recipient_email);
ALTER TABLE sigov_alert_ledger
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (alert_key),
  DROP KEY sigov_ledger_check_date_hash,
  ADD KEY sigov_ledger_check_date_key (check_name, business_date, alert_key),
  ADD KEY sigov_ledger_created (created_at),
  DROP COLUMN key_hash;
