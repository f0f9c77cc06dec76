//! The output formats (`output.format`, `--format`).

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
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
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// Whether only `sigov export` writes this format.
    pub fn export_only(self) -> bool {
        matches!(self, Format::Csv | Format::Jsonl)
    }
}
