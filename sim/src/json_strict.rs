//! JSON read strictly, for files people write: a key given twice in one object is an error
//! naming where it is (`network.drop_ratio.numerator`), where serde_json alone silently keeps
//! the last one, so a plan could run with a value its author never saw.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// Parses `text` as JSON, refusing a key repeated within one object. The error is (where,
/// what): the path of the repeated key, or `(the file)` for malformed JSON.
pub fn parse(text: &str) -> Result<Value, (String, String)> {
    let repeated = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_str(text);
    let parsed = Node { path: String::new(), repeated: &repeated }
        .deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value));
    parsed.map_err(|error| match repeated.into_inner() {
        Some(path) => (
            path,
            "given twice in one object: JSON readers keep only one of the two, so give it once"
                .to_string(),
        ),
        None => ("(the file)".to_string(), error.to_string()),
    })
}

/// One value at `path`; sets `repeated` to the path of the first key given twice.
struct Node<'r> {
    path: String,
    repeated: &'r RefCell<Option<String>>,
}

impl Node<'_> {
    /// The node of a value inside this one, at `path`.
    fn at(&self, path: String) -> Node<'_> {
        Node { path, repeated: self.repeated }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<Value, D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.at(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path =
                if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if fields.contains_key(&key) {
                *self.repeated.borrow_mut() = Some(path);
                return Err(A::Error::custom("a key given twice"));
            }
            let value = map.next_value_seed(self.at(path))?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        let text = r#"{"network":{"drop_ratio":{"numerator":1,"numerator":2}}}"#;
        assert_eq!(parse(text).unwrap_err().0, "network.drop_ratio.numerator");
        let listed = r#"{"schedule":[{"at_ns":1},{"at_ns":2,"at_ns":3}]}"#;
        assert_eq!(parse(listed).unwrap_err().0, "schedule[1].at_ns");
        assert_eq!(parse(r#"{"a":1,"a":1}"#).unwrap_err().0, "a");
    }

    #[test]
    fn it_reads_what_serde_json_reads() {
        for text in [r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#, "[]", "18446744073709551615"] {
            let expected: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse(text).unwrap(), expected, "{text}");
        }
        assert_eq!(parse("{").unwrap_err().0, "(the file)");
        assert_eq!(parse("{} x").unwrap_err().0, "(the file)");
    }
}
