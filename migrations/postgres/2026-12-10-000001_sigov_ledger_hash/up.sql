-- The ledger keyed by a 16-byte hash of its key (the first 16 bytes of its SHA-256): every
-- secondary index entry carries the key it points with; the readable key (up to 191
-- characters) stays, unindexed, for `sigov alerts`. The (created_at) index had no reader; the
-- day index ends with the hash (a day's keys are read in hash order from the last one read).
ALTER TABLE sigov_alert_ledger ADD COLUMN key_hash BYTEA NULL;
UPDATE sigov_alert_ledger SET key_hash = substring(sha256(convert_to(alert_key, 'UTF8')) from 1 for 16);
ALTER TABLE sigov_alert_ledger ALTER COLUMN key_hash SET NOT NULL;
ALTER TABLE sigov_alert_ledger ADD CONSTRAINT sigov_ledger_hash_len CHECK (octet_length(key_hash) = 16);
ALTER TABLE sigov_alert_ledger DROP CONSTRAINT sigov_alert_ledger_pkey;
ALTER TABLE sigov_alert_ledger ADD CONSTRAINT sigov_alert_ledger_pkey PRIMARY KEY (key_hash);
DROP INDEX sigov_ledger_created;
DROP INDEX sigov_ledger_check_date_key;
CREATE INDEX sigov_ledger_check_date_hash ON sigov_alert_ledger (check_name, business_date, key_hash);
-- No query reads the outbox by recipient (a digest picks due rows by the due index and sorts
-- them).
DROP INDEX sigov_outbox_recipient;
