-- Hand-overs of a queued mail that got no final answer from the relay (it may have been
-- delivered): at most two copies are ever sent, then the row is set aside as `unconfirmed`.
ALTER TABLE sigov_outbox ADD COLUMN unconfirmed INT NOT NULL DEFAULT 0;
