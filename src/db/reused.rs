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
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text};
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
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
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
