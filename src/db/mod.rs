//! Database connections: the backend chosen from the URL scheme, one statement API over every
//! backend (text SQL with typed binds), transactions, and a statement counter. One file a
//! concern: `conn` (the connection, transactions), `statement` (the statement API and its
//! macros), `dialect` (what differs in SQL), `ids` (ids of inserted rows), `errors` (error
//! classes), `value` (bound values).

pub mod conn;
pub mod ddl;
pub mod dialect;
pub mod errors;
pub mod ids;
pub mod keyhash;
pub mod maintain;
pub mod migrate;
pub mod pgurl;
pub(crate) mod reused;
pub mod schema;
pub mod statement;
pub mod text;
pub mod url;
pub mod value;
pub mod watchdog;

pub use conn::{Conn, Db};
pub use dialect::IdKeys;
pub use errors::{is_lock_conflict, is_unique_violation};
pub use reused::ByText;
pub(crate) use statement::{
    dsl_execute, dsl_insert_ignore, dsl_load, insert_returning, insert_reused,
};
pub use statement::{fixed_chunks, LoadRow, STATEMENT_ROWS};
pub use url::{Backend, DbUrl};
pub use value::{Mark, Val};
