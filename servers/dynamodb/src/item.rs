//! Conversion between plain JSON and DynamoDB [`AttributeValue`]s.
//!
//! MCP clients are often JavaScript, which parses every JSON number as a double, and our
//! `serde_json` has no arbitrary precision. A DynamoDB number (38 significant digits) is therefore
//! only emitted as a JSON number when a double carries it exactly; everything JSON cannot express
//! natively uses a single-key tagged object:
//!
//! | DynamoDB | JSON                                                                          |
//! |----------|-------------------------------------------------------------------------------|
//! | S        | `"text"`                                                                      |
//! | N        | `42`, `1.5` when a double holds it exactly, otherwise `{"$N": "<exact text>"}` |
//! | BOOL     | `true` / `false`                                                              |
//! | NULL     | `null`                                                                        |
//! | B        | `{"$B": "<standard base64>"}`                                                 |
//! | SS       | `{"$SS": ["a", "b"]}`                                                         |
//! | NS       | `{"$NS": ["1", "2.5"]}` (input also accepts JSON numbers)                     |
//! | BS       | `{"$BS": ["<base64>", ...]}`                                                  |
//! | L        | `[...]`                                                                       |
//! | M        | `{...}`, or `{"$M": {...}}` when the map's only key is one of the tags        |

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value};

/// Keys that turn a single-key JSON object into a typed value rather than a map.
const TAGS: [&str; 6] = ["$N", "$B", "$SS", "$NS", "$BS", "$M"];

/// Largest integer below which every integer is exactly a double (JavaScript's safe range).
const MAX_SAFE_INTEGER: u64 = 1 << 53;

const NUMBER_HELP: &str = "write decimal text such as \"42\", \"-3.14\" or \"1.5E+20\" \
     (at most 38 significant digits, magnitude 1E-130 to 9.9999999999999999999999999999999999999E+125, or 0)";

/// A conversion error, located by a JSON pointer (`/orders/3/price`) into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemError {
    pub path: String,
    pub message: String,
}

impl ItemError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            message: message.into(),
        }
    }

    /// Prefixes a path segment. Called while unwinding, so successful conversions build no paths.
    fn under(mut self, segment: &str) -> Self {
        let segment = segment.replace('~', "~0").replace('/', "~1");
        self.path = format!("/{segment}{}", self.path);
        self
    }
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ItemError {}

/// Type of a key attribute, as declared in the table's `AttributeDefinitions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub(crate) fn from_sdk(t: &ScalarAttributeType) -> Option<Self> {
        match t {
            ScalarAttributeType::S => Some(Self::S),
            ScalarAttributeType::N => Some(Self::N),
            ScalarAttributeType::B => Some(Self::B),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::S => "S, string",
            Self::N => "N, number",
            Self::B => "B, binary as base64",
        }
    }
}

/// Converts one attribute value to JSON (see the module docs for the representation).
pub(crate) fn to_json(av: &AttributeValue) -> Value {
    match av {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number_to_json(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::B(b) => tagged("$B", BASE64.encode(b).into()),
        AttributeValue::L(l) => Value::Array(l.iter().map(to_json).collect()),
        AttributeValue::M(m) => {
            let map = item_to_json(m);
            if m.len() == 1 && m.keys().all(|k| TAGS.contains(&k.as_str())) {
                tagged("$M", map)
            } else {
                map
            }
        }
        AttributeValue::Ss(ss) => tagged("$SS", ss.iter().cloned().map(Value::String).collect()),
        // Strings, not numbers: set members must keep full precision and need not fit a double.
        AttributeValue::Ns(ns) => tagged("$NS", ns.iter().cloned().map(Value::String).collect()),
        AttributeValue::Bs(bs) => tagged("$BS", bs.iter().map(|b| Value::String(BASE64.encode(b))).collect()),
        // A type newer than this SDK cannot be shown faithfully; null at least stays valid JSON.
        _ => Value::Null,
    }
}

/// Converts an item (or key) to a JSON object. Top-level names are always plain attribute names.
pub(crate) fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
}

/// Converts JSON to an attribute value (see the module docs for the representation).
pub(crate) fn from_json(v: &Value) -> Result<AttributeValue, ItemError> {
    Ok(match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(_) => AttributeValue::N(parse_number(v)?.0),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| from_json(v).map_err(|e| e.under(&i.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => match tag_of(map) {
            Some((tag, inner)) => from_tagged(tag, inner).map_err(|e| e.under(tag))?,
            None => AttributeValue::M(map_from_json(map)?),
        },
    })
}

/// Converts a JSON object to an item; its keys are attribute names, never tags.
pub(crate) fn item_from_json(v: &Value) -> Result<HashMap<String, AttributeValue>, ItemError> {
    match v {
        Value::Object(map) => map_from_json(map),
        other => Err(ItemError::new(format!(
            "an item must be a JSON object of attribute names to values, e.g. {{\"pk\": \"a\", \"n\": 1}}, not {}",
            kind(other)
        ))),
    }
}

/// Builds a primary key from plain JSON such as `{"pk": "a", "sk": 5}`, typing each attribute by
/// the table's key `schema` so callers need not tag key values.
pub(crate) fn key_from_json(
    v: &Value,
    schema: &[(String, ScalarType)],
) -> Result<HashMap<String, AttributeValue>, ItemError> {
    let expected = || {
        schema
            .iter()
            .map(|(name, ty)| format!("{name:?} ({})", ty.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Value::Object(map) = v else {
        return Err(ItemError::new(format!(
            "a key must be a JSON object with exactly the key attributes {}, not {}",
            expected(),
            kind(v)
        )));
    };
    let extra: Vec<_> = map
        .keys()
        .filter(|k| !schema.iter().any(|(name, _)| name == *k))
        .map(|k| format!("{k:?}"))
        .collect();
    if !extra.is_empty() {
        return Err(ItemError::new(format!(
            "unexpected attribute(s) {} in key; a key has exactly the key attributes {}",
            extra.join(", "),
            expected()
        )));
    }
    schema
        .iter()
        .map(|(name, ty)| {
            let v = map
                .get(name)
                .ok_or_else(|| ItemError::new(format!("missing key attribute {name:?} (type {})", ty.describe())))?;
            let av = key_value(name, *ty, v).map_err(|e| e.under(name))?;
            Ok((name.clone(), av))
        })
        .collect()
}

/// The exact decimal text of a JSON number: integers verbatim, floats in their shortest
/// round-trip form (so the text denotes exactly the double that was parsed).
pub(crate) fn json_number_text(n: &Number) -> String {
    n.to_string()
}

/// Whether `s` is a number DynamoDB accepts (syntax, 38 significant digits, and range).
#[cfg(test)]
pub(crate) fn valid_number(s: &str) -> bool {
    Decimal::parse(s).is_ok()
}

fn key_value(name: &str, ty: ScalarType, v: &Value) -> Result<AttributeValue, ItemError> {
    let tag = |t| match v {
        Value::Object(map) => tag_of(map).filter(|(found, _)| *found == t),
        _ => None,
    };
    match ty {
        ScalarType::S => match v {
            Value::String(s) if s.is_empty() => Err(ItemError::new(format!(
                "key attribute {name:?} cannot be an empty string (DynamoDB rejects empty key values)"
            ))),
            Value::String(s) => Ok(AttributeValue::S(s.clone())),
            other => Err(ItemError::new(format!(
                "key attribute {name:?} must be a string (S), not {}",
                kind(other)
            ))),
        },
        ScalarType::N => {
            let inner = match tag("$N") {
                Some((_, inner)) => inner,
                None if matches!(v, Value::Number(_) | Value::String(_)) => v,
                None => {
                    return Err(ItemError::new(format!(
                        "key attribute {name:?} must be a number (N): a JSON number, a numeric string, \
                         or {{\"$N\": \"<digits>\"}}, not {}",
                        kind(v)
                    )));
                }
            };
            Ok(AttributeValue::N(parse_number(inner)?.0))
        }
        ScalarType::B => {
            let inner = tag("$B").map_or(v, |(_, inner)| inner);
            let bytes = decode_base64(inner)
                .map_err(|e| ItemError::new(format!("key attribute {name:?} is binary (B): {}", e.message)))?;
            if bytes.is_empty() {
                return Err(ItemError::new(format!(
                    "key attribute {name:?} cannot be empty binary (DynamoDB rejects empty key values)"
                )));
            }
            Ok(AttributeValue::B(Blob::new(bytes)))
        }
    }
}

fn tagged(tag: &str, v: Value) -> Value {
    Value::Object(Map::from_iter([(tag.to_owned(), v)]))
}

/// The tag and payload of a tagged object; any other object is a plain map.
fn tag_of(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    let (key, v) = map.iter().next().filter(|_| map.len() == 1)?;
    TAGS.iter().find(|t| **t == key).map(|t| (*t, v))
}

fn from_tagged(tag: &str, v: &Value) -> Result<AttributeValue, ItemError> {
    Ok(match tag {
        "$N" => AttributeValue::N(parse_number(v)?.0),
        "$B" => AttributeValue::B(Blob::new(decode_base64(v)?)),
        "$SS" => AttributeValue::Ss(set_from_json(tag, v, |v| match v {
            Value::String(s) => Ok((s.clone(), s.as_str())),
            other => Err(ItemError::new(format!(
                "string set elements must be strings, not {}",
                kind(other)
            ))),
        })?),
        "$NS" => AttributeValue::Ns(set_from_json(tag, v, parse_number)?),
        "$BS" => AttributeValue::Bs(set_from_json(tag, v, |v| {
            let bytes = decode_base64(v)?;
            Ok((Blob::new(bytes.clone()), bytes))
        })?),
        "$M" => match v {
            Value::Object(map) => AttributeValue::M(map_from_json(map)?),
            other => {
                return Err(ItemError::new(format!(
                    "\"$M\" must hold a JSON object (a literal map), not {}",
                    kind(other)
                )));
            }
        },
        _ => unreachable!("tag_of only yields known tags"),
    })
}

fn map_from_json(map: &Map<String, Value>) -> Result<HashMap<String, AttributeValue>, ItemError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), from_json(v).map_err(|e| e.under(k))?)))
        .collect()
}

/// Parses a set's elements, rejecting what DynamoDB rejects (empty sets, duplicate members,
/// compared by `K`) up front with a message that says what to do instead.
fn set_from_json<'a, T, K: Eq + Hash>(
    tag: &str,
    v: &'a Value,
    element: impl Fn(&'a Value) -> Result<(T, K), ItemError>,
) -> Result<Vec<T>, ItemError> {
    let Value::Array(items) = v else {
        return Err(ItemError::new(format!(
            "{tag:?} must hold a JSON array of the set's elements, not {}",
            kind(v)
        )));
    };
    if items.is_empty() {
        return Err(ItemError::new(format!(
            "{tag:?} is empty, but DynamoDB sets cannot be empty; omit the attribute or use an empty list []"
        )));
    }
    let mut seen = HashSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (value, key) = element(item).map_err(|e| e.under(&i.to_string()))?;
            if !seen.insert(key) {
                return Err(ItemError::new(format!(
                    "duplicate element {item}; DynamoDB sets cannot contain duplicates, remove it"
                ))
                .under(&i.to_string()));
            }
            Ok(value)
        })
        .collect()
}

/// A JSON number or numeric string as validated DynamoDB number text, plus its value for
/// duplicate detection ("1" and "1.0" are the same set member).
fn parse_number(v: &Value) -> Result<(String, Decimal), ItemError> {
    let text = match v {
        Value::Number(n) => json_number_text(n),
        Value::String(s) => s.clone(),
        other => {
            return Err(ItemError::new(format!(
                "expected a number (a JSON number or a string like \"3.14\"), not {}",
                kind(other)
            )));
        }
    };
    match Decimal::parse(&text) {
        Ok(d) => Ok((text, d)),
        Err(reason) => Err(ItemError::new(format!(
            "{text:?} is not a valid DynamoDB number ({reason}); {NUMBER_HELP}"
        ))),
    }
}

fn decode_base64(v: &Value) -> Result<Vec<u8>, ItemError> {
    match v {
        Value::String(s) => BASE64.decode(s).map_err(|e| {
            ItemError::new(format!(
                "invalid base64 ({e}); binary values are standard base64 (A-Z, a-z, 0-9, +, /) padded with ="
            ))
        }),
        other => Err(ItemError::new(format!("expected a base64 string, not {}", kind(other)))),
    }
}

fn number_to_json(text: &str) -> Value {
    match Decimal::parse(text).ok().and_then(|d| d.to_json_number()) {
        Some(n) => Value::Number(n),
        None => tagged("$N", text.into()),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A DynamoDB number reduced to `±digits × 10^exponent` with no leading or trailing zeros in
/// `digits` (empty for zero), so equal values compare equal regardless of how they were written.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    fn parse(s: &str) -> Result<Self, &'static str> {
        const SYNTAX: &str = "expected optional sign, digits, optional fraction, optional exponent";
        let (negative, rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (mantissa, exp) = match rest.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e)),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
            return Err(SYNTAX);
        }
        let mut exponent = match exp {
            None => 0,
            Some(e) => {
                let magnitude = e.strip_prefix(['+', '-']).unwrap_or(e);
                if magnitude.is_empty() || !all_digits(magnitude) {
                    return Err(SYNTAX);
                }
                // Saturate: any exponent this large is out of range, and this avoids overflow.
                let magnitude = magnitude.trim_start_matches('0');
                let value = if magnitude.len() > 9 {
                    1_000_000_000
                } else {
                    magnitude.parse().unwrap_or(0)
                };
                if e.starts_with('-') { -value } else { value }
            }
        };
        let joined = format!("{int}{frac}");
        let significant = joined.trim_start_matches('0');
        let digits = significant.trim_end_matches('0');
        if digits.is_empty() {
            return Ok(Self {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        exponent += (significant.len() - digits.len()) as i64 - frac.len() as i64;
        if digits.len() > 38 {
            return Err("more than 38 significant digits");
        }
        // Exponent of the leading digit: DynamoDB allows 1E-130 up to 9.99…9E+125.
        let magnitude = exponent + digits.len() as i64 - 1;
        if !(-130..=125).contains(&magnitude) {
            return Err("magnitude outside 1E-130 to 9.9999999999999999999999999999999999999E+125");
        }
        Ok(Self {
            negative,
            digits: digits.to_owned(),
            exponent,
        })
    }

    /// The JSON number with exactly this value, if a double (what JavaScript clients use) and
    /// its shortest round-trip text denote it exactly.
    fn to_json_number(&self) -> Option<Number> {
        if self.digits.is_empty() {
            return Some(0.into());
        }
        if self.exponent >= 0 {
            // Integers only within ±2^53, where every integer is a double, so clients that add or
            // compare them never see neighbours collapse.
            if self.digits.len() as i64 + self.exponent > 16 {
                return None;
            }
            let n: u64 = format!("{}{}", self.digits, "0".repeat(self.exponent as usize))
                .parse()
                .ok()?;
            if n > MAX_SAFE_INTEGER {
                return None;
            }
            return Some(if self.negative {
                (-i64::try_from(n).ok()?).into()
            } else {
                n.into()
            });
        }
        let sign = if self.negative { "-" } else { "" };
        let f: f64 = format!("{sign}{}e{}", self.digits, self.exponent).parse().ok()?;
        let n = Number::from_f64(f)?;
        (Self::parse(&json_number_text(&n)).ok()? == *self).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(s.into())
    }

    fn blob(bytes: &[u8]) -> AttributeValue {
        AttributeValue::B(Blob::new(bytes))
    }

    /// Equality up to how numbers are written: "1E+2" and "100" are the same DynamoDB number.
    fn same(a: &AttributeValue, b: &AttributeValue) -> bool {
        use AttributeValue::{L, M, N};
        match (a, b) {
            (N(x), N(y)) => Decimal::parse(x) == Decimal::parse(y),
            (L(x), L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (M(x), M(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
            _ => a == b,
        }
    }

    /// Round trips through JSON *text*, as a client sees it.
    fn round_trip(av: AttributeValue) -> Value {
        let json = to_json(&av);
        let reparsed: Value = serde_json::from_str(&json.to_string()).unwrap();
        let back = from_json(&reparsed).unwrap();
        assert!(same(&av, &back), "{av:?} -> {json} -> {back:?}");
        json
    }

    #[test]
    fn round_trips_every_type() {
        assert_eq!(round_trip(AttributeValue::S("hi".into())), json!("hi"));
        assert_eq!(round_trip(AttributeValue::S(String::new())), json!(""));
        assert_eq!(round_trip(AttributeValue::Bool(true)), json!(true));
        assert_eq!(round_trip(AttributeValue::Null(true)), json!(null));
        assert_eq!(round_trip(n("5")), json!(5));
        assert_eq!(round_trip(n("-7")), json!(-7));
        assert_eq!(round_trip(n("1.5")), json!(1.5));
        assert_eq!(round_trip(n("0.1")), json!(0.1));
        assert_eq!(round_trip(n("9007199254740992")), json!(9007199254740992u64));
        assert_eq!(round_trip(n("-0")), json!(0));
        for exact in [
            "12345678901234567890123456789012345678",
            "9007199254740993",
            "1E+125",
            "0.12345678901234567890",
            "9.9999999999999999999999999999999999999E+125",
        ] {
            assert_eq!(round_trip(n(exact)), json!({ "$N": exact }));
        }
        // Value-preserving but respelled: a double holds 1e-36 exactly as written.
        assert_eq!(round_trip(n("-0.000000000000000000000000000000000001")), json!(-1e-36));
        assert_eq!(round_trip(blob(&[0, 0xff, 0xfe, 0x80])), json!({ "$B": "AP/+gA==" }));
        assert_eq!(round_trip(blob(&[])), json!({ "$B": "" }));
        assert_eq!(
            round_trip(AttributeValue::Ss(vec!["a".into(), "b".into()])),
            json!({ "$SS": ["a", "b"] })
        );
        assert_eq!(
            round_trip(AttributeValue::Ns(vec![
                "1".into(),
                "12345678901234567890123456789012345678".into()
            ])),
            json!({ "$NS": ["1", "12345678901234567890123456789012345678"] })
        );
        assert_eq!(
            round_trip(AttributeValue::Bs(vec![Blob::new([0xff]), Blob::new([1, 2])])),
            json!({ "$BS": ["/w==", "AQI="] })
        );
        assert_eq!(round_trip(AttributeValue::L(vec![])), json!([]));
        assert_eq!(round_trip(AttributeValue::M(HashMap::new())), json!({}));
    }

    #[test]
    fn round_trips_nested_values_and_escapes_tag_like_maps() {
        let inner = HashMap::from([("$N".to_owned(), AttributeValue::S("not a number".into()))]);
        assert_eq!(
            round_trip(AttributeValue::M(inner.clone())),
            json!({ "$M": { "$N": "not a number" } })
        );
        let nested = AttributeValue::M(HashMap::from([
            ("tagged".to_owned(), AttributeValue::M(inner)),
            ("$X".to_owned(), AttributeValue::Ns(vec!["2.5".into()])),
            (
                "list".to_owned(),
                AttributeValue::L(vec![
                    AttributeValue::Ss(vec!["x".into()]),
                    AttributeValue::M(HashMap::from([("$M".to_owned(), AttributeValue::M(HashMap::new()))])),
                    n("1E+125"),
                    blob(b"\x00\x9f"),
                ]),
            ),
        ]));
        assert_eq!(
            round_trip(nested),
            json!({
                "tagged": { "$M": { "$N": "not a number" } },
                "$X": { "$NS": ["2.5"] },
                "list": [{ "$SS": ["x"] }, { "$M": { "$M": {} } }, { "$N": "1E+125" }, { "$B": "AJ8=" }],
            })
        );
        // Several keys, or one key that is not a tag: a plain map even if keys look like tags.
        let plain = json!({ "$N": "1", "other": 2 });
        assert!(matches!(from_json(&plain).unwrap(), AttributeValue::M(m) if m.len() == 2));
        assert!(matches!(from_json(&json!({ "$S": "x" })).unwrap(), AttributeValue::M(m) if m.len() == 1));
    }

    #[test]
    fn json_numbers_keep_their_exact_text() {
        let number = |v: Value| from_json(&v).unwrap();
        assert_eq!(number(json!(5)), n("5"));
        assert_eq!(number(json!(-7)), n("-7"));
        assert_eq!(number(json!(1.5)), n("1.5"));
        assert_eq!(number(json!(9007199254740993u64)), n("9007199254740993"));
        let parsed: Value = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(number(parsed), n("9007199254740993"));
        assert_eq!(number(json!({ "$N": "1.50E+3" })), n("1.50E+3"));
    }

    #[test]
    fn rejects_invalid_numbers_with_path() {
        for bad in [
            "abc",
            "",
            "1.2.3",
            "1e",
            "--1",
            "123456789012345678901234567890123456789",
            "1e200",
            "1E-131",
        ] {
            let err = from_json(&json!({ "orders": [{ "price": { "$N": bad } }] })).unwrap_err();
            assert_eq!(err.path, "/orders/0/price/$N", "{bad}");
            assert!(err.message.contains("not a valid DynamoDB number"), "{err}");
        }
        assert!(from_json(&json!(1e200)).is_err());
        assert!(valid_number("1E-130") && valid_number("-9.9999999999999999999999999999999999999E+125"));
        assert!(valid_number(
            "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        ));
        assert!(valid_number("12345678901234567890123456789012345678000") && valid_number(".5") && valid_number("+5."));
        assert!(!valid_number("1E+126") && !valid_number("1e99999999999999999999") && !valid_number("."));
    }

    #[test]
    fn rejects_bad_sets_and_tags() {
        let err = |v: Value| from_json(&v).unwrap_err();
        assert!(err(json!({ "$SS": [] })).message.contains("cannot be empty"));
        let dup = err(json!({ "a": { "$NS": [1, "1.0"] } }));
        assert_eq!(dup.path, "/a/$NS/1");
        assert!(dup.message.contains("duplicate"), "{dup}");
        assert_eq!(err(json!({ "$SS": ["a", "a"] })).path, "/$SS/1");
        assert_eq!(err(json!({ "$BS": ["AQ==", "AQ=="] })).path, "/$BS/1");
        assert_eq!(err(json!({ "$SS": ["a", 1] })).path, "/$SS/1");
        assert_eq!(err(json!({ "$B": "not base64!" })).path, "/$B");
        assert_eq!(err(json!({ "$M": [] })).path, "/$M");
        assert_eq!(err(json!({ "a/b": { "$B": 1 } })).path, "/a~1b/$B");
        assert!(item_from_json(&json!([1])).is_err());
        let item = item_from_json(&json!({ "$N": "1" })).unwrap();
        assert_eq!(item["$N"], AttributeValue::S("1".into()));
    }

    fn schema() -> Vec<(String, ScalarType)> {
        vec![("pk".into(), ScalarType::S), ("sk".into(), ScalarType::N)]
    }

    #[test]
    fn builds_keys_from_plain_json() {
        let key = key_from_json(&json!({ "pk": "a", "sk": 5 }), &schema()).unwrap();
        assert_eq!(
            key,
            HashMap::from([("pk".into(), AttributeValue::S("a".into())), ("sk".into(), n("5"))])
        );
        let key = key_from_json(
            &json!({ "pk": "a", "sk": "12345678901234567890123456789012345678" }),
            &schema(),
        )
        .unwrap();
        assert_eq!(key["sk"], n("12345678901234567890123456789012345678"));
        let key = key_from_json(&json!({ "pk": "a", "sk": { "$N": "-1.5" } }), &schema()).unwrap();
        assert_eq!(key["sk"], n("-1.5"));
        let binary = [("id".to_owned(), ScalarType::B)];
        assert_eq!(
            key_from_json(&json!({ "id": "AP8=" }), &binary).unwrap()["id"],
            blob(&[0, 0xff])
        );
        assert_eq!(
            key_from_json(&json!({ "id": { "$B": "AP8=" } }), &binary).unwrap()["id"],
            blob(&[0, 0xff])
        );
    }

    #[test]
    fn rejects_bad_keys() {
        let err = |v: Value| key_from_json(&v, &schema()).unwrap_err();
        assert_eq!(
            err(json!({ "pk": "a" })).message,
            "missing key attribute \"sk\" (type N, number)"
        );
        let extra = err(json!({ "pk": "a", "sk": 1, "x": 2 })).message;
        assert!(
            extra.contains("\"x\"") && extra.contains("\"pk\" (S, string), \"sk\" (N, number)"),
            "{extra}"
        );
        let wrong = err(json!({ "pk": 1, "sk": 1 }));
        assert_eq!(wrong.path, "/pk");
        assert!(
            wrong.message.starts_with("key attribute \"pk\" must be a string (S)"),
            "{wrong}"
        );
        assert!(err(json!({ "pk": "", "sk": 1 })).message.contains("empty"));
        assert_eq!(err(json!({ "pk": "a", "sk": "abc" })).path, "/sk");
        assert_eq!(err(json!({ "pk": "a", "sk": true })).path, "/sk");
        assert_eq!(err(json!({ "pk": "a", "sk": { "$B": "AA==" } })).path, "/sk");
        assert!(key_from_json(&json!({ "id": "%%" }), &[("id".into(), ScalarType::B)]).is_err());
        assert!(err(json!("a")).message.contains("JSON object"));
    }
}

/// Property tests (issue 13): DynamoDB JSON ↔ AttributeValue round trips through JSON text with
/// every number's value kept (38 significant digits exactly as written when a double cannot hold
/// them), and no JSON input panics the conversion. `PROPTEST_CASES` sets the cases (default 256).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A valid DynamoDB number, written as scientific, plain or leading-zero text.
    fn number() -> impl Strategy<Value = String> {
        (any::<bool>(), "[1-9][0-9]{0,37}", -130i64..=125, 0..3u8).prop_map(|(neg, digits, m, form)| {
            let sign = if neg { "-" } else { "" };
            let (head, rest) = digits.split_at(1);
            match form {
                1 if (0..=40).contains(&m) => {
                    let m = m as usize;
                    let padded = format!("{digits}{}", "0".repeat((m + 1).saturating_sub(digits.len())));
                    let (int, frac) = padded.split_at(m + 1);
                    if frac.is_empty() {
                        format!("{sign}{int}")
                    } else {
                        format!("{sign}{int}.{frac}")
                    }
                }
                2 if (-30..0).contains(&m) => format!("{sign}0.{}{digits}", "0".repeat((-m - 1) as usize)),
                _ if rest.is_empty() => format!("{sign}{head}E{m:+}"),
                _ => format!("{sign}{head}.{rest}E{m:+}"),
            }
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![".{0,8}", prop::sample::select(TAGS.to_vec()).prop_map(str::to_owned)]
    }

    fn attribute() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            any::<String>().prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null(true)),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| AttributeValue::B(Blob::new(b))),
            prop::collection::btree_set(".{0,10}", 1..6).prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
            prop::collection::vec(number(), 1..6).prop_map(|ns| {
                // Set members are unique by value ("1" and "1E+0" are the same number).
                let mut seen = HashSet::new();
                AttributeValue::Ns(ns.into_iter().filter(|n| seen.insert(Decimal::parse(n).ok())).collect())
            }),
            prop::collection::btree_set(prop::collection::vec(any::<u8>(), 0..12), 1..5)
                .prop_map(|s| AttributeValue::Bs(s.into_iter().map(Blob::new).collect())),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(AttributeValue::L),
                prop::collection::hash_map(key(), inner, 0..6).prop_map(AttributeValue::M),
            ]
        })
    }

    /// Equality up to how numbers are written.
    fn same(a: &AttributeValue, b: &AttributeValue) -> bool {
        use AttributeValue::{L, M, N, Ns};
        let num = |x: &String, y: &String| Decimal::parse(x).ok() == Decimal::parse(y).ok();
        match (a, b) {
            (N(x), N(y)) => num(x, y),
            (Ns(x), Ns(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| num(x, y)),
            (L(x), L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (M(x), M(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
            _ => a == b,
        }
    }

    /// Whether serde_json reads a double of `v` back as another double. Without serde_json's
    /// `float_roundtrip` feature its float parser is not correctly rounded, so a number written as
    /// a JSON double (`7.13709e-119`) came back as `7.137090000000001e-119` and a key passed back
    /// named another item. The workspace turns the feature on; the properties check it stays on.
    fn misparsed(v: &Value) -> bool {
        match v {
            Value::Number(n) if n.is_f64() => {
                let text = n.to_string();
                serde_json::from_str::<f64>(&text).ok() != text.parse::<f64>().ok()
            }
            Value::Array(items) => items.iter().any(misparsed),
            Value::Object(map) => map.values().any(misparsed),
            _ => false,
        }
    }

    /// Arbitrary JSON leaning on the tags, for the no-panic property.
    fn tagged_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
            "[-+0-9.eE]{0,50}".prop_map(Value::from),
            "[A-Za-z0-9+/=]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn attribute_values_round_trip_through_json_text(av in attribute()) {
            let json = to_json(&av);
            prop_assert!(!misparsed(&json), "serde_json must read numbers back exactly (feature float_roundtrip): {}", json);
            let text = json.to_string();
            let reparsed: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = from_json(&reparsed).map_err(|e| TestCaseError::fail(format!("{e} in {text}")))?;
            prop_assert!(same(&av, &back), "{:?} -> {} -> {:?}", av, text, back);
        }

        #[test]
        fn numbers_keep_every_digit(n in number()) {
            let json = to_json(&AttributeValue::N(n.clone()));
            prop_assert!(!misparsed(&json), "serde_json must read numbers back exactly (feature float_roundtrip): {}", json);
            match &json {
                // Not exactly a double: the text is passed through unchanged.
                Value::Object(o) => prop_assert_eq!(o.get("$N"), Some(&Value::String(n.clone()))),
                // A double: it denotes exactly the same value.
                Value::Number(x) => prop_assert_eq!(Decimal::parse(&json_number_text(x)).ok(), Decimal::parse(&n).ok(), "{} -> {}", n, x),
                other => prop_assert!(false, "{n} -> {other}"),
            }
            let back = from_json(&serde_json::from_str(&json.to_string()).unwrap_or_default());
            prop_assert!(matches!(&back, Ok(AttributeValue::N(m)) if Decimal::parse(m).ok() == Decimal::parse(&n).ok()), "{n} -> {json} -> {back:?}");
        }

        #[test]
        fn items_round_trip(item in prop::collection::hash_map(".{0,8}", attribute(), 0..6)) {
            let json = item_to_json(&item);
            prop_assert!(!misparsed(&json), "serde_json must read numbers back exactly (feature float_roundtrip): {}", json);
            let back = item_from_json(&serde_json::from_str(&json.to_string()).unwrap_or_default())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back.len(), item.len());
            for (k, v) in &item {
                prop_assert!(back.get(k).is_some_and(|w| same(v, w)), "{k}: {v:?} vs {:?}", back.get(k));
            }
        }

        #[test]
        fn any_json_converts_or_is_refused_with_a_path(v in tagged_json()) {
            let _ = from_json(&v);
            let _ = item_from_json(&v);
            let schema = [("pk".to_owned(), ScalarType::S), ("sk".to_owned(), ScalarType::N)];
            let _ = key_from_json(&v, &schema);
            let wrapped = serde_json::json!({ "a": [v] });
            if let Err(e) = from_json(&wrapped) {
                prop_assert!(e.path.starts_with("/a/0"), "{e}");
            }
        }

        #[test]
        fn out_of_range_numbers_are_refused(digits in "[1-9][0-9]{37,44}[1-9]", m in prop_oneof![126i64..100_000, -100_000i64..-130]) {
            prop_assert!(from_json(&serde_json::json!({"$N": digits})).is_err(), "39+ digits accepted");
            prop_assert!(from_json(&serde_json::json!({"$N": format!("1E{m}")})).is_err(), "1E{m} accepted");
        }
    }
}
