-- A check reads back the ledger keys of one page of candidates at a time (by entity).
CREATE INDEX sigov_ledger_entity ON sigov_alert_ledger (check_name, entity_id);
