//! The alert ledger's primary key: the first 16 bytes of the SHA-256 of the readable alert key
//! (`sigov_alert_ledger.key_hash`; the key itself stays in `alert_key`, unindexed, for people).
//! A 16-byte key keeps every secondary index entry (which carries the primary key) small,
//! where the readable key took up to 191 characters in each. The chance that two of a billion
//! different keys share a hash is about 1 in 10^20 (the birthday bound, n^2 / 2^129).
//!
//! The same function exists in SQL for the migration that filled the column: MySQL
//! `UNHEX(LEFT(SHA2(k, 256), 32))`, PostgreSQL `substring(sha256(convert_to(k, 'UTF8')) from 1
//! for 16)`, SQLite `sigov_key_hash(k)` (registered on every connection, [`register`]).

use sha2::Digest;

/// The bytes of a key hash.
pub const LEN: usize = 16;

/// A key hash.
pub type Hash = [u8; LEN];

/// The ledger hash of `key` (its UTF-8 bytes).
pub fn of(key: &str) -> Hash {
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0u8; LEN];
    out.copy_from_slice(&digest[..LEN]);
    out
}

/// A hash as one integer (what a `HashSet` keeps); `None` for bytes that are not a key hash
/// (a row written by hand, a damaged column).
pub fn as_u128(bytes: &[u8]) -> Option<u128> {
    let arr: Hash = bytes.try_into().ok()?;
    Some(u128::from_be_bytes(arr))
}

/// The ledger hash of `key`, as one integer.
pub fn of_u128(key: &str) -> u128 {
    u128::from_be_bytes(of(key))
}

#[cfg(feature = "sqlite")]
diesel::define_sql_function! {
    /// `sigov_key_hash(alert_key)` on SQLite (which has no SHA-256 of its own).
    fn sigov_key_hash(key: diesel::sql_types::Text) -> diesel::sql_types::Binary;
}

/// Makes `sigov_key_hash(text)` known to SQLite connection `c` (deterministic: usable in an
/// index or a migration).
#[cfg(feature = "sqlite")]
pub fn register(c: &mut diesel::sqlite::SqliteConnection) -> diesel::QueryResult<()> {
    sigov_key_hash_utils::register_impl(c, |key: String| of(&key).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(
            of("abc"),
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23
            ]
        );
        assert_eq!(as_u128(&of("abc")), Some(of_u128("abc")));
        assert_eq!(as_u128(b"short"), None);
        assert_ne!(of("tasks:a:1"), of("tasks:a:2"));
    }
}
