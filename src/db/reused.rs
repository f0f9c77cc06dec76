//! Hand-written statements of a fixed shape, prepared once per connection and reused.
//!
//! diesel never caches `sql_query`: each call prepares its statement again (MySQL: a
//! `COM_STMT_PREPARE` round trip and a parse of every placeholder; SQLite: a compile), which for
//! a multi-row INSERT of hundreds of rows costs about as much as running it. A [`Reused`]
//! statement is cached by its SQL text, so it must only be used for statements whose text
//! comes from a small fixed set (a fixed number of rows): every distinct text stays prepared
//! for the connection's life (MySQL counts them against `max_prepared_stmt_count`).

use super::value::Val;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, HasSqlType, Nullable, Text};
use diesel::QueryResult;

/// `sql` with one `?` per value of `vals`, in order (no `?` elsewhere in the text). Each
/// backend writes its own placeholders (PostgreSQL: `$1`, `$2`, …). `cache`: kept prepared
/// for the connection's life (fixed shapes only); otherwise prepared for this one use, as
/// diesel's `sql_query`.
pub struct Reused<'a> {
    pub sql: &'a str,
    pub vals: &'a [Val],
    pub cache: bool,
}

impl QueryId for Reused<'_> {
    type QueryId = ();
    // No static id: diesel keys the cached statement by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for Reused<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Binary>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut vals = self.vals.iter();
        for part in parts {
            match vals.next() {
                Some(Val::Text(s)) => out.push_bind_param::<Text, str>(s.as_str())?,
                Some(Val::OptText(s)) => out.push_bind_param::<Nullable<Text>, _>(s)?,
                Some(Val::Int(i)) => out.push_bind_param::<BigInt, _>(i)?,
                Some(Val::OptInt(i)) => out.push_bind_param::<Nullable<BigInt>, _>(i)?,
                Some(Val::Bytes(b)) => out.push_bind_param::<Binary, [u8]>(b.as_slice())?,
                None => return Err(mismatch(self)),
            }
            out.push_sql(part);
        }
        if vals.next().is_some() {
            return Err(mismatch(self));
        }
        Ok(())
    }
}

fn mismatch(r: &Reused<'_>) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(
        format!(
            "{} value(s) for the placeholders of a statement on `{}`",
            r.vals.len(),
            super::errors::main_table(r.sql)
        )
        .into(),
    )
}

impl diesel::query_builder::Query for Reused<'_> {
    // Rows are read by name (`QueryableByName`), as from `sql_query`.
    type SqlType = diesel::sql_types::Untyped;
}

impl<C> diesel::RunQueryDsl<C> for Reused<'_> {}

/// A query-builder statement cached by its SQL text instead of its Rust type: diesel keys a
/// statement with a static query id by type, which needs `'static` values, and a batch of rows
/// borrows its strings. For fixed shapes only, as [`Reused`].
pub struct ByText<Q>(pub Q);

impl<Q> QueryId for ByText<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for ByText<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for ByText<Q> {
    type SqlType = Q::SqlType;
}

impl<C, Q> diesel::RunQueryDsl<C> for ByText<Q> {}

/// A [`Reused`] statement whose rows are read by position, as the SQL types `ST` (a tuple, in
/// column order), into a `Queryable` struct: diesel's by-name reading looks every column up in
/// the result's metadata, row after row (on MySQL, each lookup measures and checks the names of
/// the columns before it), which was a third of a steady-state run's CPU.
pub struct Typed<'a, ST> {
    pub inner: Reused<'a>,
    st: std::marker::PhantomData<ST>,
}

impl<'a, ST> Typed<'a, ST> {
    pub fn new(sql: &'a str, vals: &'a [Val]) -> Typed<'a, ST> {
        Typed {
            inner: Reused {
                sql,
                vals,
                cache: false,
            },
            st: std::marker::PhantomData,
        }
    }
}

impl<ST> QueryId for Typed<'_, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB> QueryFragment<DB> for Typed<'_, ST>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Binary>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.inner.walk_ast(out)
    }
}

impl<ST> diesel::query_builder::Query for Typed<'_, ST> {
    type SqlType = ST;
}

impl<C, ST> diesel::RunQueryDsl<C> for Typed<'_, ST> {}

/// Rows read by position ([`Typed`]): `Sql` is the tuple of their columns' SQL types, in
/// order. Implemented by [`positional!`] for a `Queryable` struct.
pub trait Positional: Sized + 'static {
    type Sql: 'static;
    /// Each row handed to `f` as it is decoded, none held (the client library may still
    /// buffer the result, in its compact form).
    #[cfg(feature = "mysql")]
    fn each_mysql(
        c: &mut diesel::mysql::MysqlConnection,
        q: Typed<'_, Self::Sql>,
        f: &mut dyn FnMut(Self),
    ) -> QueryResult<()>;
    #[cfg(feature = "sqlite")]
    fn each_sqlite(
        c: &mut diesel::sqlite::SqliteConnection,
        q: Typed<'_, Self::Sql>,
        f: &mut dyn FnMut(Self),
    ) -> QueryResult<()>;
    #[cfg(feature = "postgres")]
    fn each_pg(
        c: &mut diesel::pg::PgConnection,
        q: Typed<'_, Self::Sql>,
        f: &mut dyn FnMut(Self),
    ) -> QueryResult<()>;
}

/// `positional!(Row, (BigInt, Text, …))`: `Row` (a `#[derive(Queryable)]` struct whose fields
/// are in the order of the statement's columns) is read by position as those SQL types, on
/// every compiled backend ([`crate::db::Db::load_positional`]).
macro_rules! positional {
    ($row:ty, $st:ty) => {
        impl $crate::db::reused::Positional for $row {
            type Sql = $st;
            #[cfg(feature = "mysql")]
            fn each_mysql(
                c: &mut diesel::mysql::MysqlConnection,
                q: $crate::db::reused::Typed<'_, $st>,
                f: &mut dyn FnMut(Self),
            ) -> diesel::QueryResult<()> {
                let rows = diesel::RunQueryDsl::load_iter::<
                    Self,
                    diesel::connection::DefaultLoadingMode,
                >(q, c)?;
                for r in rows {
                    f(r?);
                }
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            fn each_sqlite(
                c: &mut diesel::sqlite::SqliteConnection,
                q: $crate::db::reused::Typed<'_, $st>,
                f: &mut dyn FnMut(Self),
            ) -> diesel::QueryResult<()> {
                let rows = diesel::RunQueryDsl::load_iter::<
                    Self,
                    diesel::connection::DefaultLoadingMode,
                >(q, c)?;
                for r in rows {
                    f(r?);
                }
                Ok(())
            }
            #[cfg(feature = "postgres")]
            fn each_pg(
                c: &mut diesel::pg::PgConnection,
                q: $crate::db::reused::Typed<'_, $st>,
                f: &mut dyn FnMut(Self),
            ) -> diesel::QueryResult<()> {
                let rows = diesel::RunQueryDsl::load_iter::<
                    Self,
                    diesel::connection::DefaultLoadingMode,
                >(q, c)?;
                for r in rows {
                    f(r?);
                }
                Ok(())
            }
        }
    };
}
pub(crate) use positional;
