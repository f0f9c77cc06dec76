//! The column sets candidate queries share: a person's (`p_…`), a project's (`projet_…`).

use crate::db::text::{Lossy, LossyOpt};
use crate::db::Db;
use crate::rules::{statut_label, Person, ProjectInfo};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

/// Person columns, prefixed by `p_`, selected from alias `u`.
pub fn person_cols(db: &Db, alias: &str) -> String {
    format!(
        "{a}.id AS p_id, {a}.username AS p_username, {a}.first_name AS p_first, {a}.last_name AS p_last, \
         {a}.email AS p_email, {} AS p_super, {} AS p_active, {} AS p_statut",
        db.flag(&format!("{alias}.is_superuser")),
        db.flag(&format!("{alias}.is_active")),
        db.flag(&format!("{alias}.statut_actif")),
        a = alias
    )
}

/// The SQL types of [`project_cols`], in order (rows read by position).
pub type ProjectSql = (Text, Text, Text, Text);

/// The SQL types of [`person_cols`], in order (rows read by position).
pub type PersonSql = (
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<BigInt>,
    Nullable<BigInt>,
    Nullable<BigInt>,
);

/// The project columns every candidate carries (`p` = core_projet, `s` = its status).
pub fn project_cols() -> &'static str {
    "p.id AS projet_id, p.nom AS projet_nom, p.client AS projet_client, COALESCE(s.nom, '') AS projet_statut"
}

/// By name, or by position (`ProjectSql`, for the rows read many at a time).
#[derive(QueryableByName, diesel::Queryable)]
pub struct ProjectCols {
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub projet_id: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub projet_nom: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub projet_client: String,
    #[diesel(sql_type = Text, deserialize_as = Lossy)]
    pub projet_statut: String,
}

impl ProjectCols {
    pub fn info(&self) -> ProjectInfo {
        ProjectInfo {
            id: self.projet_id.clone(),
            nom: self.projet_nom.clone(),
            client: self.projet_client.clone(),
            statut: statut_label(&self.projet_statut),
        }
    }
}

/// A person from a LEFT JOIN: absent when the referenced user does not exist. By name, or by
/// position (`PersonSql`).
#[derive(QueryableByName, diesel::Queryable)]
pub struct OptPerson {
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub p_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub p_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub p_first: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub p_last: Option<String>,
    #[diesel(sql_type = Nullable<Text>, deserialize_as = LossyOpt)]
    pub p_email: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub p_super: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub p_active: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub p_statut: Option<i64>,
}

impl OptPerson {
    pub fn person(self) -> Option<Person> {
        match (self.p_id, self.p_username) {
            (Some(id), Some(username)) => Some(Person {
                id,
                username,
                first_name: self.p_first.unwrap_or_default(),
                last_name: self.p_last.unwrap_or_default(),
                email: self.p_email.unwrap_or_default(),
                is_superuser: self.p_super.unwrap_or(0) != 0,
                is_active: self.p_active.unwrap_or(0) != 0,
                statut_actif: self.p_statut.unwrap_or(0) != 0,
            }),
            _ => None,
        }
    }
}
