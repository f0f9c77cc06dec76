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
