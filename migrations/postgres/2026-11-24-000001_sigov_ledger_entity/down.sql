DROP INDEX sigov_ledger_entity;
