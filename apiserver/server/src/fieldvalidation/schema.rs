//! What a request body may hold at each place, from the OpenAPI definitions of
//! the types (rkube-openapi's neutral form, `$ref`s into `#/definitions/`).

use serde_json::{Map, Value};

const REF_PREFIX: &str = "#/definitions/";

/// The Go type a JSON value decodes into.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A schema of the definitions.
    Schema(&'static Value),
    /// `interface{}` / `map[string]interface{}`: any keys, duplicates still count.
    Untyped,
    /// Decoded by a custom unmarshaler (RawExtension, FieldsV1, IntOrString, ...),
    /// free-form or `x-kubernetes-preserve-unknown-fields`: kept as sent, unchecked.
    Opaque,
    /// `[]jsonPatchOp` of upstream's PATCH handler.
    JsonPatchOps,
    /// `jsonPatchOp{op, path, from, value}`.
    JsonPatchOp,
}

/// How a JSON object or array is checked at a place.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// A struct: these keys are its fields.
    Struct(&'static Map<String, Value>),
    /// `map[string]X`.
    Map(Kind),
    /// `[]X`.
    List(Kind),
    /// `interface{}`.
    Untyped,
    /// Nothing is checked.
    Opaque,
    JsonPatchOps,
    JsonPatchOp,
}

/// The schema of a definition.
pub(crate) fn definition(name: &str) -> Option<&'static Value> {
    rkube_openapi::definition(name)
}

impl Kind {
    pub(crate) fn shape(self) -> Shape {
        match self {
            Kind::Schema(s) => schema_shape(s, 0),
            Kind::Untyped => Shape::Untyped,
            Kind::Opaque => Shape::Opaque,
            Kind::JsonPatchOps => Shape::JsonPatchOps,
            Kind::JsonPatchOp => Shape::JsonPatchOp,
        }
    }

    /// The SSA list type and map keys of an array field.
    pub(crate) fn list_type(self) -> (&'static str, Vec<&'static str>) {
        let Kind::Schema(s) = self else {
            return ("atomic", Vec::new());
        };
        let list_type = s
            .get("x-kubernetes-list-type")
            .and_then(Value::as_str)
            .unwrap_or("atomic");
        let keys = s
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|k| k.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        (list_type, keys)
    }
}

impl Shape {
    /// The kind of `key`'s value in an object of this shape; `None` for an
    /// unknown field of a struct.
    pub(crate) fn field(self, key: &str) -> Option<Kind> {
        match self {
            Shape::Struct(props) => props.get(key).map(Kind::Schema),
            Shape::Map(elem) => Some(elem),
            Shape::Untyped => Some(Kind::Untyped),
            Shape::JsonPatchOp => match key {
                "op" | "path" | "from" => Some(Kind::Opaque),
                "value" => Some(Kind::Untyped),
                _ => None,
            },
            Shape::List(_) | Shape::Opaque | Shape::JsonPatchOps => Some(Kind::Opaque),
        }
    }

    /// The kind of the items of an array of this shape.
    pub(crate) fn item(self) -> Kind {
        match self {
            Shape::List(elem) => elem,
            Shape::Untyped => Kind::Untyped,
            Shape::JsonPatchOps => Kind::JsonPatchOp,
            _ => Kind::Opaque,
        }
    }

    /// An object here is decoded key by key (unknown and duplicate keys count).
    pub(crate) fn checks_objects(self) -> bool {
        matches!(
            self,
            Shape::Struct(_) | Shape::Map(_) | Shape::Untyped | Shape::JsonPatchOp
        )
    }

    /// An array here is decoded item by item.
    pub(crate) fn checks_arrays(self) -> bool {
        matches!(self, Shape::List(_) | Shape::Untyped | Shape::JsonPatchOps)
    }
}

fn schema_shape(s: &'static Value, depth: u8) -> Shape {
    if depth > 32 {
        return Shape::Opaque;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return match r.strip_prefix(REF_PREFIX).and_then(definition) {
            Some(d) => schema_shape(d, depth + 1),
            None => Shape::Opaque,
        };
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        if let [one] = all.as_slice() {
            return schema_shape(one, depth + 1);
        }
    }
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
    {
        return Shape::Opaque;
    }
    if let Some(Value::Object(props)) = s.get("properties") {
        return Shape::Struct(props);
    }
    match s.get("additionalProperties") {
        Some(ap @ Value::Object(_)) => return Shape::Map(Kind::Schema(ap)),
        Some(_) => return Shape::Opaque,
        None => {}
    }
    match s.get("items") {
        Some(items @ Value::Object(_)) => Shape::List(Kind::Schema(items)),
        // Scalars, and objects without properties: custom unmarshalers
        // (RawExtension, FieldsV1) and free-form values.
        _ => Shape::Opaque,
    }
}
