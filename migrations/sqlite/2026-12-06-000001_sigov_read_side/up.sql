-- `sigov alerts`: an alert row finds its ledger key (and so its run and its mail) by its table
-- and id.
CREATE INDEX sigov_ledger_alert ON sigov_alert_ledger (target_table, alert_id);
-- `sigov alerts resend`: a mail queued again has an outbox key of its own (`alert_key` stays
-- unique, one row per mail) and names the ledger key of its alert here.
ALTER TABLE sigov_outbox ADD COLUMN origin_key TEXT NULL;
CREATE INDEX sigov_outbox_origin ON sigov_outbox (origin_key);
