//! The closed sets of values sigov stores and prints (run statuses, outbox states, alert levels,
//! mail kinds), as types: clap and serde read and write them by name, the database reads them
//! from their text column, and SQL binds the one `as_str`. A value the code does not know,
//! read from the database, is an error naming it rather than a silent mismatch.

/// Defines a text enum: `as_str`, `ALL`, `Display`, `FromStr`, serde, clap `ValueEnum` and
/// diesel's `FromSql<Text>` on both backends.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
        pub enum $name {
            $($(#[$vmeta])* #[value(name = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and printed name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}` (expected {})",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "sqlite")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn from_sql(
                v: diesel::sqlite::SqliteValue<'_, '_, '_>,
            ) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::sqlite::Sqlite,
                >>::from_sql(v)?;
                Ok(s.parse::<$name>()?)
            }
        }

        #[cfg(feature = "mysql")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::mysql::Mysql> for $name {
            fn from_sql(v: diesel::mysql::MysqlValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::mysql::Mysql,
                >>::from_sql(v)?;
                Ok(s.parse::<$name>()?)
            }
        }

        #[cfg(feature = "postgres")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(v: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(v)?;
                Ok(s.parse::<$name>()?)
            }
        }

        impl From<$name> for crate::db::Val {
            fn from(v: $name) -> crate::db::Val {
                crate::db::Val::from(v.as_str())
            }
        }
    };
}

text_enum!(
    /// A run record's status in `sigov_run.status`.
    RunStatus {
        Running => "running",
        Success => "success",
        Failed => "failed",
        Interrupted => "interrupted",
    }
);

text_enum!(
    /// How a check run ended, as a report says it (a locked check leaves no run record).
    ReportStatus {
        Success => "success",
        Failed => "failed",
        Locked => "locked",
    }
);

text_enum!(
    /// An outbox row's state in `sigov_outbox.state`.
    MailState {
        Pending => "pending",
        Sending => "sending",
        Failed => "failed",
        Dead => "dead",
        /// Handed over twice without a final answer (it may have been delivered): set aside,
        /// requeued only by an operator.
        Unconfirmed => "unconfirmed",
        Sent => "sent",
    }
);

text_enum!(
    /// What a ledger key records (`sigov_alert_ledger.state`).
    LedgerState {
        /// An alert row was written for it.
        Created => "created",
        /// A missed milestone that a later one covers: recorded so it never fires.
        Superseded => "superseded",
    }
);

text_enum!(
    /// An alert's level in `core_alerteprojet.niveau`, as the reference writes it.
    Niveau {
        Info => "INFO",
        Warning => "WARNING",
        Danger => "DANGER",
    }
);

text_enum!(
    /// What an outbox row's mail is about (`sigov_outbox.kind`).
    MailKind {
        /// An alert of `core_alerteprojet`.
        Alert => "alert",
        /// A stage notification of `core_notificationetape`.
        Stage => "stage",
        /// A message to a channel (`[channels.NAME]`): the row's `channel` names it.
        Channel => "channel",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(*s));
        }
        assert_eq!(
            serde_json::to_string(&MailState::Dead).ok().as_deref(),
            Some("\"dead\"")
        );
        assert!("done"
            .parse::<RunStatus>()
            .is_err_and(|e| e.contains("running, success")));
    }
}
