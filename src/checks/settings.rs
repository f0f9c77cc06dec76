//! A check's own settings: how they are read from the configuration ([`Input`] over
//! [`Values`], every error naming the key and where its value came from) and what the reference
//! fixes ([`Configure`]).

use anyhow::{bail, Result};

/// A check's settings: the reference's fixed values, or read from the configuration.
pub trait Configure: Sized + Clone + std::fmt::Debug + PartialEq + serde::Serialize {
    /// What the reference (the Django commands) does.
    fn reference() -> Self;
    /// The recommended profile's values, from the layered configuration.
    fn configure(input: &Input<'_>) -> Result<Self>;
}

/// The configuration as a check's settings read it: each key's effective value and where it
/// came from.
pub trait Values {
    /// The effective value of `key` (one the check declares), its default when not set.
    fn value(&self, key: &str) -> Option<toml::Value>;
    /// Where `key`'s value came from, for an error about it.
    fn origin(&self, key: &str) -> String;
}

/// Typed reads of a check's keys; every error names the key and where its value came from.
pub struct Input<'a> {
    values: &'a dyn Values,
}

impl<'a> Input<'a> {
    pub fn new(values: &'a dyn Values) -> Input<'a> {
        Input { values }
    }

    fn get(&self, key: &str) -> Result<toml::Value> {
        match self.values.value(key) {
            Some(v) => Ok(v),
            None => bail!("`{key}`: no value (the key is not declared)"),
        }
    }

    /// A true/false switch.
    pub fn flag(&self, key: &str) -> Result<bool> {
        match self.get(key)? {
            toml::Value::Boolean(b) => Ok(b),
            other => bail!(
                "{}: `{key}`: expected true or false, found {}",
                self.values.origin(key),
                other.type_str()
            ),
        }
    }

    /// An integer in `min..=max`.
    pub fn range(&self, key: &str, min: u32, max: u32) -> Result<u32> {
        let v = self.get(key)?;
        match v.as_integer() {
            Some(n) if (i64::from(min)..=i64::from(max)).contains(&n) => Ok(n as u32),
            Some(n) => bail!(
                "`{key}` = {n} ({}) is out of range {min}..={max}",
                self.values.origin(key)
            ),
            None => bail!(
                "{}: `{key}`: expected an integer, found {}",
                self.values.origin(key),
                v.type_str()
            ),
        }
    }

    /// Days in `0..=max`, largest first, without duplicates.
    pub fn days(&self, key: &str, max: u32) -> Result<Vec<u32>> {
        let v = self.get(key)?;
        let Some(items) = v.as_array() else {
            bail!(
                "{}: `{key}`: expected a list of integers, found {}",
                self.values.origin(key),
                v.type_str()
            );
        };
        let mut out = Vec::with_capacity(items.len());
        for d in items {
            match d.as_integer() {
                Some(n) if (0..=i64::from(max)).contains(&n) => out.push(n as u32),
                _ => bail!(
                    "`{key}`: {d} ({}) is not an integer in 0..={max}",
                    self.values.origin(key)
                ),
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
        Ok(out)
    }
}

/// A check's settings as its keys' documented defaults make them (for unit tests).
#[cfg(test)]
pub fn defaults<T: Configure>(keys: &[crate::keyspec::KeySpec]) -> T {
    struct Defaults<'k>(&'k [crate::keyspec::KeySpec]);
    impl Values for Defaults<'_> {
        fn value(&self, key: &str) -> Option<toml::Value> {
            let k = self.0.iter().find(|k| k.key == key)?;
            let doc: toml::Table = format!("v = {}", k.default).parse().ok()?;
            doc.get("v").cloned()
        }
        fn origin(&self, _: &str) -> String {
            "default".to_owned()
        }
    }
    match T::configure(&Input::new(&Defaults(keys))) {
        Ok(s) => s,
        Err(e) => panic!("the documented defaults do not configure: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, toml::Value)>);
    impl Values for Map {
        fn value(&self, key: &str) -> Option<toml::Value> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        }
        fn origin(&self, _: &str) -> String {
            "configuration file `x.toml`".to_owned()
        }
    }

    #[test]
    fn typed_reads_name_the_key_and_where_it_came_from() {
        let m = Map(vec![
            (
                "a.days",
                toml::Value::Array(vec![1.into(), 7.into(), 1.into()]),
            ),
            ("a.bad", toml::Value::Array(vec![400.into()])),
            ("a.flag", toml::Value::Boolean(true)),
            ("a.n", toml::Value::Integer(5)),
            ("a.s", toml::Value::String("x".into())),
        ]);
        let i = Input::new(&m);
        assert_eq!(i.days("a.days", 365).unwrap(), vec![7, 1]);
        let e = i.days("a.bad", 365).unwrap_err().to_string();
        assert_eq!(
            e,
            "`a.bad`: 400 (configuration file `x.toml`) is not an integer in 0..=365"
        );
        assert!(i.flag("a.flag").unwrap());
        assert!(i
            .flag("a.n")
            .unwrap_err()
            .to_string()
            .contains("`a.n`: expected true or false"));
        assert_eq!(i.range("a.n", 1, 9).unwrap(), 5);
        assert!(i
            .range("a.n", 6, 9)
            .unwrap_err()
            .to_string()
            .contains("out of range 6..=9"));
        assert!(i
            .days("a.s", 9)
            .unwrap_err()
            .to_string()
            .contains("expected a list"));
        assert!(i.flag("a.missing").is_err());
    }
}
