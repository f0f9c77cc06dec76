//! Small text helpers shared by every layer.

/// Error texts from the client libraries can span lines; operators get one.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
