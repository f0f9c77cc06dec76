//! The layers of configuration values: defaults < TOML file < `SIGOV_*` environment < flags,
//! each value keeping its source for `config show`, merged into the typed [`Document`].

use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::document::Document;
use super::keys::{parse_default, spec, KeySpec, DEFAULT_CONFIG_PATH, GENERAL, KEYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: toml::Value,
    pub source: Source,
}

/// Raw layered values, before typing.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    pub entries: BTreeMap<String, Entry>,
    pub file: Option<PathBuf>,
}

/// Values given on the command line (global flags).
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    pub config: Option<(PathBuf, Source)>,
    pub database_url: Option<(String, Source)>,
    pub profile: Option<(String, Source)>,
    pub format: Option<(String, Source)>,
    pub metrics_file: Option<(String, Source)>,
}

/// Reads a string from the environment as the default's TOML type.
fn env_value(k: &KeySpec, raw: &str) -> Result<toml::Value> {
    let default = parse_default(k);
    let expected = match &default {
        toml::Value::Integer(_) => "a whole number",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Table(_) => "a TOML inline table ({ … })",
        _ => "a TOML value",
    };
    Ok(match default {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        // A list of names may be given comma-separated: SIGOV_CHECKS=deadlines,task-reminders.
        toml::Value::Array(_) if !raw.trim_start().starts_with('[') => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_owned()))
                .collect(),
        ),
        _ => {
            let doc = format!("v = {raw}");
            doc.parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .ok_or_else(|| {
                    anyhow!(
                        "environment {}: `{raw}` is not a value for `{}` (expected {expected})",
                        k.env.unwrap_or(""),
                        k.key
                    )
                })?
        }
    })
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => flatten(&key, sub, out),
            other => out.push((key, other.clone())),
        }
    }
}

impl Layers {
    /// Builds the layers from the defaults, the file, the environment and the flags.
    pub fn load(flags: &FlagValues, env: &dyn Fn(&str) -> Option<String>) -> Result<Layers> {
        let mut layers = Layers::default();
        for k in KEYS.iter() {
            layers.entries.insert(
                k.key.to_owned(),
                Entry {
                    value: parse_default(k),
                    source: Source::Default,
                },
            );
        }
        let (path, explicit) = match &flags.config {
            Some((p, _)) => (Some(p.clone()), true),
            None => (Some(PathBuf::from(DEFAULT_CONFIG_PATH)), false),
        };
        if let Some(path) = path {
            if explicit || path.exists() {
                layers.read_file(&path)?;
            }
        }
        for k in KEYS.iter() {
            if let Some(var) = k.env {
                if let Some(raw) = env(var).filter(|v| !v.is_empty()) {
                    let value = env_value(k, &raw)?;
                    layers.entries.insert(
                        k.key.to_owned(),
                        Entry {
                            value,
                            source: Source::Env,
                        },
                    );
                }
            }
        }
        let mut set_flag = |key: &'static str, v: &Option<(String, Source)>| {
            if let Some((val, src)) = v {
                layers.entries.insert(
                    key.to_owned(),
                    Entry {
                        value: toml::Value::String(val.clone()),
                        source: *src,
                    },
                );
            }
        };
        set_flag("database.url", &flags.database_url);
        set_flag("rules.profile", &flags.profile);
        set_flag("output.format", &flags.format);
        set_flag("metrics.file", &flags.metrics_file);
        Ok(layers)
    }

    fn read_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file `{}`", path.display()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // The message and the line only: toml's own text quotes the line, which may hold a
            // secret.
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            anyhow!(
                "configuration file `{}`, line {line}: {}",
                path.display(),
                crate::strings::one_line(e.message())
            )
        })?;
        let mut flat = Vec::new();
        flatten("", &table, &mut flat);
        let holds_secret = flat.iter().any(|(key, v)| {
            spec(key).is_some_and(|k| k.secret) && v.as_str().is_some_and(|s| !s.is_empty())
        });
        if holds_secret {
            use std::os::unix::fs::PermissionsExt;
            if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0) {
                log::warn!(
                    "configuration file `{}` holds a secret and every user can read it: chmod 640 it (or keep secrets in the environment or a *_file)",
                    path.display()
                );
            }
        }
        // Every key is taken as written: the document (serde, deny_unknown_fields) refuses an
        // unknown key or a value of the wrong type, naming this file.
        for (key, value) in flat {
            self.entries.insert(
                key,
                Entry {
                    value,
                    source: Source::File,
                },
            );
        }
        self.file = Some(path.to_path_buf());
        Ok(())
    }

    /// Where `key`'s value came from.
    pub fn source(&self, key: &str) -> Source {
        self.entries
            .get(key)
            .map(|e| e.source)
            .unwrap_or(Source::Default)
    }

    /// Says where `key`'s value came from, for an error about it.
    pub fn origin(&self, key: &str) -> String {
        match self.source(key) {
            Source::File => match &self.file {
                Some(f) => format!("configuration file `{}`", f.display()),
                None => "configuration file".to_owned(),
            },
            Source::Env => match spec(key).and_then(|k| k.env) {
                Some(var) => format!("environment {var}"),
                None => "environment".to_owned(),
            },
            Source::Flag => "command line".to_owned(),
            Source::Default => "default".to_owned(),
        }
    }

    /// The merged layers as the typed [`Document`]. An unknown key, a value of the wrong type
    /// or an unknown name is an error naming the key and where its value came from (never the
    /// value of a secret: serde's messages quote strings, so a secret key's message is cut).
    pub fn document(&self) -> Result<Document> {
        if let Some(key) = self.entries.keys().find(|k| spec(k).is_none()) {
            // Only a file can name a key the catalogue does not know.
            let file = match &self.file {
                Some(f) => format!("configuration file `{}`", f.display()),
                None => "configuration".to_owned(),
            };
            let section = key.rsplit_once('.').map_or("", |(s, _)| s);
            if let Some(name) = section.strip_prefix("channels.") {
                let fields: Vec<&str> = crate::channels::settings::FIELDS
                    .iter()
                    .map(|f| f.name)
                    .collect();
                bail!(
                    "{file}: unknown key `{key}` (a channel's table [channels.{name}] knows {})",
                    fields.join(", ")
                );
            }
            let known: Vec<&str> = KEYS
                .iter()
                .filter_map(|k| k.key.strip_prefix(section)?.strip_prefix('.'))
                .filter(|rest| !rest.contains('.'))
                .collect();
            if known.is_empty() {
                bail!("{file}: unknown key `{key}`");
            }
            bail!(
                "{file}: unknown key `{key}` ([{section}] knows {})",
                known.join(", ")
            );
        }
        let mut root = toml::Table::new();
        // The general sections: each check reads its own keys (see `checks::check::Values`).
        let general = self
            .entries
            .iter()
            .filter(|(k, _)| GENERAL.contains(&k.as_str()));
        for (key, e) in general {
            let mut parts: Vec<&str> = key.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            let mut t = &mut root;
            for p in parts {
                let slot = t
                    .entry(p.to_owned())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !slot.is_table() {
                    bail!("{}: `{p}` is both a value and a section", self.origin(key));
                }
                let toml::Value::Table(sub) = slot else {
                    unreachable!("checked above")
                };
                t = sub;
            }
            t.insert(last.to_owned(), e.value.clone());
        }
        serde_path_to_error::deserialize(toml::Value::Table(root)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = crate::strings::one_line(&inner.to_string());
            // toml's own message may end with the key it was at: the path is said once.
            let msg = match msg.rfind(" in `") {
                Some(i) if msg.ends_with('`') => msg[..i].to_owned(),
                _ => msg,
            };
            let known = spec(&path);
            if known.is_none() {
                // An unknown key (only a file can name one): serde says which and what is known.
                let file = match &self.file {
                    Some(f) => format!("configuration file `{}`", f.display()),
                    None => "configuration".to_owned(),
                };
                return anyhow!("{file}: unknown key `{path}`: {msg}");
            }
            let msg = if known.is_some_and(|k| k.secret) {
                "invalid value (not shown: a secret)".to_owned()
            } else {
                in_words(&msg)
            };
            anyhow!("{}: `{path}`: {msg}", self.origin(&path))
        })
    }

    /// Every key with its effective value, secrets redacted; then the channels' keys as
    /// given.
    pub fn shown(&self) -> Vec<(String, String, Source)> {
        let show = |k: &KeySpec, key: &str, value: &toml::Value| match value {
            // A ping URL's path is its key, as is a channel's URL's (Slack, Teams): only the
            // scheme and host are shown.
            toml::Value::String(s)
                if (key == "ping.url" || key.starts_with("channels."))
                    && k.secret
                    && !s.is_empty()
                    && s.contains("://") =>
            {
                toml::Value::String(crate::db::url::host_only(s)).to_string()
            }
            toml::Value::String(s) if k.secret && !s.is_empty() => {
                toml::Value::String(crate::db::url::redact(s)).to_string()
            }
            other => other.to_string(),
        };
        let mut out: Vec<(String, String, Source)> = KEYS
            .iter()
            .filter_map(|k| {
                let e = self.entries.get(k.key)?;
                Some((k.key.to_owned(), show(k, k.key, &e.value), e.source))
            })
            .collect();
        for (key, e) in self.entries.range("channels.".to_owned()..) {
            if !key.starts_with("channels.") {
                break;
            }
            if let Some(k) = spec(key) {
                out.push((key.clone(), show(k, key, &e.value), e.source));
            }
        }
        out
    }
}

/// What serde's type names mean to a person writing TOML or an environment variable.
fn kind_in_words(expected: &str) -> String {
    let range = |lo: &str, hi: &str| format!("a whole number from {lo} to {hi}");
    match expected.trim() {
        "u8" => range("0", "255"),
        "u16" => range("0", "65535"),
        "u32" => range("0", "4294967295"),
        "u64" | "usize" => range("0", "18446744073709551615"),
        "i32" => range("-2147483648", "2147483647"),
        "i64" | "isize" => range("-9223372036854775808", "9223372036854775807"),
        "f32" | "f64" | "a float" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a string" | "a borrowed string" => "text in quotes".to_owned(),
        "a sequence" => "a list in brackets ([…])".to_owned(),
        "a map" => "a table".to_owned(),
        e if e.starts_with("struct ") => "a table".to_owned(),
        e => e.to_owned(),
    }
}

/// What serde says it found, in words.
fn found_in_words(found: &str) -> String {
    let found = found.trim();
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the text {s}");
    }
    for (prefix, what) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", ""),
    ] {
        if let Some(v) = found.strip_prefix(prefix) {
            return format!("{what}{}", v.trim_matches('`'));
        }
    }
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "a table".to_owned(),
        f => f.to_owned(),
    }
}

/// serde's `invalid type: string "2", expected u32` as `expected a whole number from 0 to
/// 4294967295, found the text "2" (numbers and true/false are written without quotes)`; other
/// messages as they are.
fn in_words(msg: &str) -> String {
    let body = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "));
    let Some((found, expected)) = body.and_then(|b| b.rsplit_once(", expected ")) else {
        return msg.to_owned();
    };
    let kind = kind_in_words(expected);
    let mut s = format!("expected {kind}, found {}", found_in_words(found));
    if found.starts_with("string ") && kind != "text in quotes" {
        s.push_str(" (numbers and true/false are written without quotes)");
    }
    s
}

/// A check reads its own keys from the merged layers (each has its default there).
impl crate::checks::settings::Values for Layers {
    fn value(&self, key: &str) -> Option<toml::Value> {
        self.entries.get(key).map(|e| e.value.clone())
    }
    fn origin(&self, key: &str) -> String {
        Layers::origin(self, key)
    }
}

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn type_errors_read_as_words() {
        assert_eq!(
            in_words("invalid type: string \"2\", expected u32"),
            "expected a whole number from 0 to 4294967295, found the text \"2\" (numbers and true/false are written without quotes)"
        );
        assert_eq!(
            in_words("invalid value: integer `-1`, expected u32"),
            "expected a whole number from 0 to 4294967295, found the number -1"
        );
        assert_eq!(
            in_words("invalid type: integer `3`, expected a string"),
            "expected text in quotes, found the number 3"
        );
        assert_eq!(
            in_words("invalid type: string \"yes\", expected a boolean"),
            "expected true or false, found the text \"yes\" (numbers and true/false are written without quotes)"
        );
        assert_eq!(
            in_words("unknown variant `x`, expected `a`"),
            "unknown variant `x`, expected `a`"
        );
    }
}
