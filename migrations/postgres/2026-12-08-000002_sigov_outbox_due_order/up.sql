-- A claim picks a lane's due rows in (next_attempt_at, id) order. PostgreSQL's index entries of
-- equal keys are not in id order, so without id in the index it sorted every due row of the
-- lane before taking the first few (a sequential scan and an external sort behind 300,000
-- rows). With id last, the index gives the order and a claim reads only what it takes.
DROP INDEX sigov_outbox_due;
CREATE INDEX sigov_outbox_due ON sigov_outbox (channel, state, next_attempt_at, id);
