-- A check reads back the ledger keys of one page of candidates at a time (by entity).
ALTER TABLE sigov_alert_ledger ADD KEY sigov_ledger_entity (check_name, entity_id);
