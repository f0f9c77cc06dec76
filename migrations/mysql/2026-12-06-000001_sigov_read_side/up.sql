-- `sigov alerts`: an alert row finds its ledger key (and so its run and its mail) by its table
-- and id.
ALTER TABLE sigov_alert_ledger ADD KEY sigov_ledger_alert (target_table, alert_id);
-- `sigov alerts resend`: a mail queued again has an outbox key of its own (`alert_key` stays
-- unique, one row per mail) and names the ledger key of its alert here.
ALTER TABLE sigov_outbox
  ADD COLUMN origin_key VARCHAR(191) NULL,
  ADD KEY sigov_outbox_origin (origin_key);
