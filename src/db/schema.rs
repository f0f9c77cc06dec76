//! sigov's own tables for diesel's query builder: one portable description for every backend
//! (the migrations under `migrations/<backend>/` create them with the same names and columns).
//! The web application's tables are not here: sigov reads them with hand-written SQL, where
//! plans and temporary tables need it.

diesel::table! {
    /// One row per check run.
    sigov_run (id) {
        id -> BigInt,
        check_name -> Text,
        status -> Text,
        profile -> Text,
        business_date -> Date,
        host -> Text,
        pid -> BigInt,
        version -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        exit_code -> Nullable<Integer>,
        counters -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    /// Small facts about this installation (`demo`: made by `sigov demo`).
    sigov_meta (meta_key) {
        meta_key -> Text,
        meta_value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// One lease row per lock (a check's, purge's), shared by every host on the database.
    sigov_lock (name) {
        name -> Text,
        holder -> Text,
        run_id -> Nullable<BigInt>,
        acquired_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// The alert ledger: one row per decision a check recorded (`created`: an alert row was
    /// written; `superseded`: a missed milestone another one covers), keyed by the hash of its
    /// alert key (`db::keyhash`).
    sigov_alert_ledger (key_hash) {
        key_hash -> Binary,
        alert_key -> Text,
        check_name -> Text,
        alert_type -> Text,
        state -> Text,
        target_table -> Nullable<Text>,
        alert_id -> Nullable<BigInt>,
        entity_id -> Text,
        recipient_id -> Text,
        business_date -> Date,
        run_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        /// What the alert was raised on (its due date, its planned budget): an acknowledgement
        /// holds while it is the same.
        arm -> Nullable<Text>,
    }
}

diesel::table! {
    /// The mail outbox: one row per mail, written in its alert's transaction.
    sigov_outbox (id) {
        id -> BigInt,
        alert_key -> Text,
        recipient_id -> Text,
        recipient_email -> Text,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        run_id -> Nullable<BigInt>,
        claim_token -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        message_id -> Nullable<Text>,
        last_response -> Nullable<Text>,
        snapshot_id -> Nullable<BigInt>,
        origin_key -> Nullable<Text>,
        batch_key -> Nullable<Text>,
        unconfirmed -> Integer,
        channel -> Text,
        /// A critical alert's mail (`mail.critical_bypass`): 1, delivered even in quiet hours.
        urgent -> SmallInt,
    }
}

diesel::table! {
    /// What queued mails show of their alert, once for the mails of a write batch that show the
    /// same (the outbox row holds the rest: alert id, recipient, message).
    sigov_mail_snapshot (id) {
        id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// People's choices (`sigov prefs`): one row a (user, setting).
    sigov_preference (user_id, name) {
        user_id -> Text,
        name -> Text,
        value -> Text,
        until_date -> Nullable<Date>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Acknowledgements and snoozes (`sigov ack`, `sigov snooze`, replies): one alert's repeats
    /// and escalation held, for every recipient, until its entity changes or a day.
    sigov_ack (id) {
        id -> BigInt,
        kind -> Text,
        check_name -> Text,
        alert_type -> Text,
        entity -> Text,
        arm -> Nullable<Text>,
        until_date -> Nullable<Date>,
        alert_key -> Text,
        by_user -> Text,
        how -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Replies read by `sigov mail receive`: one row a message, by its Message-ID.
    sigov_reply (message_id) {
        message_id -> Text,
        received_at -> Timestamp,
        outbox_id -> Nullable<BigInt>,
        sender -> Text,
        command -> Text,
        outcome -> Text,
        answer_to -> Nullable<Text>,
        answer_subject -> Nullable<Text>,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        answer_attempts -> Integer,
    }
}
