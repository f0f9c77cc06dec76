-- A critical alert's mail (mail.critical_bypass): delivered even in quiet hours, never held for a
-- daily digest. A delivery in quiet hours claims only these rows.
ALTER TABLE sigov_outbox ADD COLUMN urgent SMALLINT NOT NULL DEFAULT 0;
