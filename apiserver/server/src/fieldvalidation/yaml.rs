//! Duplicate mapping keys of a YAML body, as gopkg.in/yaml.v2's strict
//! unmarshal (sigs.k8s.io/yaml's `YAMLToJSONStrict`) lists them:
//! `line 4: key "name" already set in map`, the line being that of the
//! repeated key's value, each after the errors inside that value.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options, Spanned};

use super::walk::go_float;
use rkube_patch::go_format::go_quote;

/// How deep the check looks; deeper documents are not checked.
const MAX_DEPTH: usize = 200;

/// yaml.v2's unmarshal errors for repeated keys, in its order; empty when there
/// are none or the text is not one YAML document this check can read.
pub(crate) fn duplicates(body: &[u8]) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let options = Options {
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        budget: Some(Budget {
            max_depth: MAX_DEPTH,
            ..Budget::default()
        }),
        ..Options::default()
    };
    let Ok(node) = serde_saphyr::from_str_with_options::<Node>(text, options) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    node.check(&mut out, 0);
    out
}

/// A YAML node with every mapping pair as written, repeats included.
enum Node {
    Map(Vec<(Key, Spanned<Node>)>),
    Seq(Vec<Node>),
    Scalar,
}

impl Node {
    fn check(&self, out: &mut Vec<String>, depth: usize) {
        if depth > MAX_DEPTH || out.len() >= 1000 {
            return;
        }
        match self {
            Node::Map(pairs) => {
                let mut seen = std::collections::HashSet::new();
                for (key, value) in pairs {
                    value.value.check(out, depth + 1);
                    if !matches!(key, Key::Other) && !seen.insert(key.identity()) {
                        out.push(format!(
                            "line {}: key {} already set in map",
                            value.referenced.line(),
                            key.go_syntax()
                        ));
                    }
                }
            }
            Node::Seq(items) => {
                for item in items {
                    item.check(out, depth + 1);
                }
            }
            Node::Scalar => {}
        }
    }
}

/// A mapping key as Go holds it in an `interface{}`.
enum Key {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
    /// A mapping or sequence as a key: not compared.
    Other,
}

impl Key {
    fn identity(&self) -> String {
        match self {
            Key::Str(s) => format!("s{s}"),
            Key::Int(i) => format!("i{i}"),
            Key::Float(f) => format!("f{}", f.to_bits()),
            Key::Bool(b) => format!("b{b}"),
            Key::Null => "n".into(),
            Key::Other => String::new(),
        }
    }

    /// `%#v`.
    fn go_syntax(&self) -> String {
        match self {
            Key::Str(s) => go_quote(s),
            Key::Int(i) => i.to_string(),
            Key::Float(f) => go_float(*f),
            Key::Bool(b) => b.to_string(),
            Key::Null => "<nil>".into(),
            Key::Other => String::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            pairs.push((key, value));
        }
        Ok(Node::Map(pairs))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML mapping key")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Key, E> {
        Ok(Key::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Key, E> {
        Ok(Key::Int(i.into()))
    }
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Key, E> {
        Ok(Key::Int(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Key, E> {
        Ok(Key::Int(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Key, E> {
        Ok(Key::Float(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(Key::Str(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Key, E> {
        Ok(Key::Str(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        Key::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Key::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Key::Other)
    }
}
