//! One configuration key's declaration: shared by the general catalogue (`keys`) and the
//! checks, which declare the keys of their own settings in their folder.

/// One known configuration key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub env: Option<&'static str>,
    /// Its default, in TOML syntax.
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

impl KeySpec {
    /// A key of a check's settings: read from the file only, never a secret.
    pub const fn check(key: &'static str, default: &'static str, help: &'static str) -> KeySpec {
        KeySpec {
            key,
            env: None,
            default,
            secret: false,
            help,
        }
    }
}
