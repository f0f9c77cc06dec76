//! The output formats (`output.format`, `--format`).

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    Text,
    Json,
    /// `sigov export` only: RFC 4180 CSV.
    Csv,
    /// `sigov export` only: one JSON object a line.
    Jsonl,
}

impl Format {
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether only `sigov export` writes this format.
    pub fn export_only(self) -> bool {
        matches!(self, Format::Csv | Format::Jsonl)
    }
}

#[cfg(test)]
mod tests {
    use super::Format;
    use crate::rules::{Audience, Profile};

    #[test]
    fn each_name_is_the_serde_name() {
        for f in [Format::Text, Format::Json, Format::Csv, Format::Jsonl] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.name());
        }
        for p in [Profile::Reference, Profile::Recommended] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.name());
        }
        for a in [
            Audience::Responsable,
            Audience::Createur,
            Audience::Team,
            Audience::Superusers,
        ] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.name());
        }
    }
}
