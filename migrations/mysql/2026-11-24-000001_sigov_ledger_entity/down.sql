ALTER TABLE sigov_alert_ledger DROP KEY sigov_ledger_entity;
