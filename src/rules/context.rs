//! What the de-duplication reads of a stored alert's JSON context: its top-level scalar fields,
//! borrowed from the row's text where the JSON has no escapes. A recorded row's context is
//! parsed once a run for tens of thousands of rows; building a whole `serde_json::Value` (a
//! map, and a `String` for every name and text) cost a third of a steady-state run, for the
//! two or three fields a check looks at.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A top-level value of the context, as far as a check can use it.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A negative integer (JSON numbers without a fraction or exponent).
    Neg(i64),
    /// A non-negative integer.
    Pos(u64),
    /// Anything else: a fraction, a boolean, null, an array, an object (skipped, not kept).
    Other,
}

/// The top-level scalar fields of a JSON object, in their order. A name given twice reads as
/// its last value (as `serde_json::Value` reads it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ctx<'a> {
    fields: Vec<(Cow<'a, str>, Scalar<'a>)>,
}

impl<'a> Ctx<'a> {
    /// The context of a stored row; `None` when the text is not JSON or not an object (the
    /// row is then "unreadable", as [`super::Seen::absorb_row`] says).
    pub fn parse(json: &'a str) -> Option<Ctx<'a>> {
        serde_json::from_str(json).ok()
    }

    /// The context of an alert this run built; `None` when it is not an object.
    pub fn of_value(v: &'a serde_json::Value) -> Option<Ctx<'a>> {
        let map = v.as_object()?;
        let fields = map
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => Scalar::Str(Cow::Borrowed(s.as_str())),
                    serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                        (Some(u), _) => Scalar::Pos(u),
                        (None, Some(i)) => Scalar::Neg(i),
                        _ => Scalar::Other,
                    },
                    _ => Scalar::Other,
                };
                (Cow::Borrowed(k.as_str()), s)
            })
            .collect();
        Some(Ctx { fields })
    }

    fn get(&self, field: &str) -> Option<&Scalar<'a>> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v)
    }

    /// Is `field` present, whatever its value?
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    /// The text of `field`, when it is a JSON string.
    pub fn str(&self, field: &str) -> Option<&str> {
        match self.get(field)? {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer `field`, when it is one that fits an `i64`.
    pub fn i64(&self, field: &str) -> Option<i64> {
        match self.get(field)? {
            Scalar::Neg(i) => Some(*i),
            Scalar::Pos(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The integer `field`, when it is a non-negative one.
    pub fn u64(&self, field: &str) -> Option<u64> {
        match self.get(field)? {
            Scalar::Pos(u) => Some(*u),
            _ => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Pos(u))
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
                Ok(match u64::try_from(i) {
                    Ok(u) => Scalar::Pos(u),
                    Err(_) => Scalar::Neg(i),
                })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> de::Deserialize<'de> for Ctx<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ctx<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                // A JSON object's names are strings: read as a `Scalar`, borrowed when unescaped.
                while let Some((k, v)) = map.next_entry::<Scalar<'de>, Scalar<'de>>()? {
                    if let Scalar::Str(k) = k {
                        fields.push((k, v));
                    }
                }
                Ok(Ctx { fields })
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_json::Value` answers for the same field, for comparison.
    fn as_value(json: &str, field: &str) -> (Option<String>, Option<i64>, Option<u64>, bool) {
        let v: serde_json::Value = serde_json::from_str(json).expect("json");
        let f = v.get(field);
        (
            f.and_then(|x| x.as_str()).map(str::to_owned),
            f.and_then(serde_json::Value::as_i64),
            f.and_then(serde_json::Value::as_u64),
            f.is_some(),
        )
    }

    fn as_ctx(ctx: &Ctx, field: &str) -> (Option<String>, Option<i64>, Option<u64>, bool) {
        (
            ctx.str(field).map(str::to_owned),
            ctx.i64(field),
            ctx.u64(field),
            ctx.has(field),
        )
    }

    #[test]
    fn reads_what_serde_json_value_reads() {
        let json = r#"{"a": "x", "b": 7, "c": -3, "d": 1.5, "e": true, "f": null,
            "g": [1, {"h": 2}], "i": {"j": "k"}, "l": "\u00e9t\u00e9 \"q\"", "m": 18446744073709551615,
            "a": "second", "n": -9223372036854775808, "o": 1e3}"#;
        let parsed = Ctx::parse(json).expect("object");
        let value: serde_json::Value = serde_json::from_str(json).expect("json");
        let built = Ctx::of_value(&value).expect("object");
        for f in [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "l", "m", "n", "o", "zz",
        ] {
            assert_eq!(as_ctx(&parsed, f), as_value(json, f), "parsed {f}");
            assert_eq!(as_ctx(&built, f), as_value(json, f), "built {f}");
        }
        assert_eq!(parsed.str("l"), Some("été \"q\""));
        assert_eq!(parsed.str("a"), Some("second"));
    }

    #[test]
    fn what_is_not_a_json_object_is_none() {
        for bad in [
            "",
            "[]",
            "\"x\"",
            "3",
            "null",
            "{",
            "{\"a\": }",
            "{\"a\": 1} trailing",
            "{\"a\": [1,}",
            "{'a': 1}",
            "{\"a\": nul}",
        ] {
            assert!(Ctx::parse(bad).is_none(), "{bad:?}");
            let v = serde_json::from_str::<serde_json::Value>(bad).ok();
            assert!(v.filter(serde_json::Value::is_object).is_none(), "{bad:?}");
        }
        assert_eq!(Ctx::parse(" {} "), Some(Ctx::default()));
        assert!(Ctx::of_value(&serde_json::json!([1])).is_none());
    }

    #[test]
    fn unescaped_texts_are_borrowed() {
        let json = r#"{"tache_id": "abc", "esc": "a\nb"}"#;
        let c = Ctx::parse(json).expect("object");
        assert!(matches!(
            c.get("tache_id"),
            Some(Scalar::Str(Cow::Borrowed(_)))
        ));
        assert!(matches!(c.get("esc"), Some(Scalar::Str(Cow::Owned(_)))));
        assert!(matches!(c.fields[0].0, Cow::Borrowed("tache_id")));
    }
}
