//! The message schema: which fields each Kubernetes protobuf message has, how
//! they map to JSON, and which (apiVersion, kind) pairs are served.
//!
//! The schema is compiled into the crate as text (`schema/*.txt`) and parsed
//! once on first use. Format, one item per line (`#` starts a comment line):
//!
//! ```text
//! package core.v1                 following messages belong to package core.v1
//! kinds v1 Pod PodList            kinds of apiVersion "v1" ("*": any apiVersion),
//!                                 each the message of that name in the package
//! Volume name=1:s! volumeSource=2:VolumeSource^
//! ~Verbs items=1:[s               "~": Go named slice type, JSON is the items array
//! ```
//!
//! A field is `name=number:type[flags]`: `name` is the protobuf field name
//! (which is also the JSON name unless a `=json` flag says otherwise). Types:
//! `s` string, `y` bytes, `b` bool, `i` int32, `l` int64, `Name` a message of
//! the same package, `pkg.Name` a message of another package, `[T` repeated,
//! `{K,V}` map. Flags: `*` Go pointer (a present zero value is meaningful),
//! `!` not `omitempty` (a zero scalar is still written to JSON), `^` embedded
//! inline (its fields appear in the parent's JSON object), `=json` JSON name.
//!
//! The files were derived from k8s.io/api and k8s.io/apimachinery v0.33.13:
//! messages and fields (in file order, which is the Go struct order) from each
//! package's `generated.proto`; the flags from the Go struct of the same name
//! (`types.go`), matching fields by the `name=` of their `protobuf` tag: `*`
//! for a pointer Go type, `!` for a non-repeated string/bool/integer field
//! whose `json` tag lacks `omitempty`, `^` for a `json:",inline"` embedded
//! struct, `=json` where the `json` tag name differs from the proto name; `~`
//! for messages marked `+protobuf.nullable=true` (named slice types); the
//! `kinds` lines from the `addKnownTypes` lists in each `register.go`. To add
//! a group or follow a new Kubernetes version, apply the same rules.

use std::collections::HashMap;
use std::sync::LazyLock;

const SOURCES: &[(&str, &str)] = &[
    ("meta.txt", include_str!("../schema/meta.txt")),
    ("core.txt", include_str!("../schema/core.txt")),
    ("groups.txt", include_str!("../schema/groups.txt")),
];

/// Index of a message in [`Schema::msgs`].
pub(crate) type MsgId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Str,
    Bytes,
    Bool,
    I32,
    I64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Scalar(Scalar),
    Msg(MsgId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Single,
    Repeated,
    /// A map with the given key type; [`Field::ty`] is the value type.
    Map(Scalar),
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub json: String,
    pub num: u32,
    pub ty: Ty,
    pub label: Label,
    pub ptr: bool,
    pub required: bool,
    pub inline: bool,
}

/// Messages whose JSON form is not the generic object mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    None,
    /// meta/v1 Time: RFC 3339 string, second precision.
    Time,
    /// meta/v1 MicroTime: RFC 3339 string, microsecond precision.
    MicroTime,
    /// resource.Quantity: its string form.
    Quantity,
    /// intstr.IntOrString: a JSON number or string.
    IntOrString,
    /// runtime.RawExtension and meta/v1 FieldsV1: embedded raw JSON (field 1).
    Raw,
    /// runtime.Unknown used as a field: embedded raw JSON (field 2).
    Unknown,
    /// A Go named slice type (`~` in the schema): the `items` array.
    Wrapper,
}

#[derive(Debug)]
pub(crate) struct Message {
    pub name: String,
    pub special: Special,
    pub fields: Vec<Field>,
    /// Field indices in field-number order (the order Go marshals them in).
    pub by_num: Vec<usize>,
}

impl Message {
    /// The index in [`Message::fields`] of the field with this number.
    pub fn index_of(&self, num: u32) -> Option<usize> {
        self.by_num
            .binary_search_by_key(&num, |&i| self.fields[i].num)
            .ok()
            .map(|i| self.by_num[i])
    }
}

#[derive(Debug)]
pub(crate) struct Schema {
    pub msgs: Vec<Message>,
    pub by_name: HashMap<String, MsgId>,
    kinds: HashMap<(String, String), MsgId>,
    any_version_kinds: HashMap<String, MsgId>,
}

impl Schema {
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<MsgId> {
        self.kinds
            .get(&(api_version.to_string(), kind.to_string()))
            .or_else(|| self.any_version_kinds.get(kind))
            .copied()
    }

    pub fn msg(&self, id: MsgId) -> &Message {
        &self.msgs[id]
    }

    /// Every (apiVersion, kind) pair with a fixed apiVersion, and the kinds
    /// served under any apiVersion (with `"*"`).
    pub fn all_kinds(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.kinds.keys().cloned().collect();
        out.extend(
            self.any_version_kinds
                .keys()
                .map(|k| ("*".to_string(), k.clone())),
        );
        out.sort();
        out
    }
}

pub(crate) static SCHEMA: LazyLock<Schema> = LazyLock::new(|| match parse(SOURCES) {
    Ok(s) => s,
    Err(e) => panic!("rkube-protobuf: invalid built-in schema: {e}"),
});

fn scalar(s: &str) -> Option<Scalar> {
    Some(match s {
        "s" => Scalar::Str,
        "y" => Scalar::Bytes,
        "b" => Scalar::Bool,
        "i" => Scalar::I32,
        "l" => Scalar::I64,
        _ => return None,
    })
}

fn special_of(full: &str) -> Special {
    match full {
        "meta.v1.Time" => Special::Time,
        "meta.v1.MicroTime" => Special::MicroTime,
        "resource.Quantity" | "resource.QuantityValue" => Special::Quantity,
        "intstr.IntOrString" => Special::IntOrString,
        "runtime.RawExtension" | "meta.v1.FieldsV1" => Special::Raw,
        "runtime.Unknown" => Special::Unknown,
        _ => Special::None,
    }
}

/// A field whose message types are still unresolved names.
struct RawField {
    json: String,
    num: u32,
    ty: String,
    label: Label,
    ptr: bool,
    required: bool,
    inline: bool,
}

fn parse_field(tok: &str) -> Result<RawField, String> {
    let (name, rest) = tok.split_once('=').ok_or("missing '='")?;
    let (num, spec) = rest.split_once(':').ok_or("missing ':'")?;
    let num: u32 = num
        .parse()
        .map_err(|_| format!("bad field number {num:?}"))?;
    let mut f = RawField {
        json: name.to_string(),
        num,
        ty: String::new(),
        label: Label::Single,
        ptr: false,
        required: false,
        inline: false,
    };
    let mut spec = spec;
    if let Some(s) = spec.strip_prefix('[') {
        f.label = Label::Repeated;
        spec = s;
    } else if let Some(s) = spec.strip_prefix('{') {
        let (inner, after) = s.split_once('}').ok_or("unterminated map type")?;
        let (k, v) = inner.split_once(',').ok_or("map type needs key,value")?;
        f.label = Label::Map(scalar(k).ok_or("map key must be a scalar")?);
        f.ty = v.to_string();
        spec = after;
    }
    if f.ty.is_empty() {
        let end = spec
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '.')
            .unwrap_or(spec.len());
        f.ty = spec[..end].to_string();
        spec = &spec[end..];
    }
    let mut chars = spec.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '*' => f.ptr = true,
            '!' => f.required = true,
            '^' => f.inline = true,
            '=' => {
                let rest = &spec[i + 1..];
                let end = rest.find(['*', '!', '^']).unwrap_or(rest.len());
                f.json = rest[..end].to_string();
                while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                    chars.next();
                }
            }
            _ => return Err(format!("unknown flag {c:?}")),
        }
    }
    if f.ty.is_empty() {
        return Err("missing type".into());
    }
    Ok(f)
}

fn parse(sources: &[(&str, &str)]) -> Result<Schema, String> {
    // (full message name, wrapper flag, fields), kinds as (apiVersion, kind, full name).
    let mut raw: Vec<(String, bool, Vec<RawField>)> = Vec::new();
    let mut kinds: Vec<(String, String, String)> = Vec::new();
    for (file, text) in sources {
        let mut pkg = String::new();
        for (n, line) in text.lines().enumerate() {
            let err = |e: String| format!("{file}:{}: {e}", n + 1);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut toks = line.split_whitespace();
            let head = toks.next().unwrap_or_default();
            match head {
                "package" => {
                    pkg = toks
                        .next()
                        .ok_or_else(|| err("package name".into()))?
                        .into()
                }
                "kinds" => {
                    let av = toks.next().ok_or_else(|| err("kinds apiVersion".into()))?;
                    for k in toks {
                        kinds.push((av.to_string(), k.to_string(), format!("{pkg}.{k}")));
                    }
                }
                _ => {
                    if pkg.is_empty() {
                        return Err(err("message before package".into()));
                    }
                    let (wrapper, name) = match head.strip_prefix('~') {
                        Some(n) => (true, n),
                        None => (false, head),
                    };
                    let mut fields = Vec::new();
                    for tok in toks {
                        let mut f = parse_field(tok).map_err(|e| err(format!("{tok}: {e}")))?;
                        if scalar(&f.ty).is_none() && !f.ty.contains('.') {
                            f.ty = format!("{pkg}.{}", f.ty);
                        }
                        fields.push(f);
                    }
                    raw.push((format!("{pkg}.{name}"), wrapper, fields));
                }
            }
        }
    }
    let mut by_name = HashMap::new();
    for (i, (name, _, _)) in raw.iter().enumerate() {
        if by_name.insert(name.clone(), i).is_some() {
            return Err(format!("duplicate message {name}"));
        }
    }
    let mut msgs = Vec::with_capacity(raw.len());
    for (name, wrapper, rfields) in raw {
        let mut fields = Vec::with_capacity(rfields.len());
        for f in rfields {
            let ty = match scalar(&f.ty) {
                Some(s) => Ty::Scalar(s),
                None => Ty::Msg(
                    *by_name
                        .get(&f.ty)
                        .ok_or_else(|| format!("{name}.{}: unknown type {}", f.json, f.ty))?,
                ),
            };
            fields.push(Field {
                json: f.json,
                num: f.num,
                ty,
                label: f.label,
                ptr: f.ptr,
                required: f.required,
                inline: f.inline,
            });
        }
        let mut by_num: Vec<usize> = (0..fields.len()).collect();
        by_num.sort_by_key(|&i| fields[i].num);
        if by_num
            .windows(2)
            .any(|w| fields[w[0]].num == fields[w[1]].num)
        {
            return Err(format!("{name}: duplicate field number"));
        }
        let special = if wrapper {
            Special::Wrapper
        } else {
            special_of(&name)
        };
        msgs.push(Message {
            name,
            special,
            fields,
            by_num,
        });
    }
    let mut schema = Schema {
        msgs,
        by_name,
        kinds: HashMap::new(),
        any_version_kinds: HashMap::new(),
    };
    for (av, kind, full) in kinds {
        let id = *schema
            .by_name
            .get(&full)
            .ok_or_else(|| format!("kind {av} {kind}: no message {full}"))?;
        if av == "*" {
            schema.any_version_kinds.insert(kind, id);
        } else {
            schema.kinds.insert((av, kind), id);
        }
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_parses() {
        let s = &*SCHEMA;
        assert!(s.msgs.len() > 500, "{}", s.msgs.len());
        let pod = s.kind("v1", "Pod").expect("Pod");
        assert_eq!(s.msg(pod).name, "core.v1.Pod");
        assert_eq!(s.kind("apps/v1", "Status"), s.kind("v1", "Status"));
        assert!(s.kind("apps/v1", "Pod").is_none());
    }

    #[test]
    fn field_flags() {
        let f = parse_field("aPIGroup=1:s=apiGroup*").unwrap();
        assert_eq!((f.json.as_str(), f.num, f.ptr), ("apiGroup", 1, true));
        let f = parse_field("limits=1:{s,resource.Quantity}").unwrap();
        assert_eq!(f.label, Label::Map(Scalar::Str));
        assert_eq!(f.ty, "resource.Quantity");
        let f = parse_field("volumeSource=2:VolumeSource^").unwrap();
        assert!(f.inline && !f.ptr && f.label == Label::Single);
        let f = parse_field("dryRun=5:[s").unwrap();
        assert_eq!((f.label, f.ty.as_str()), (Label::Repeated, "s"));
        assert!(parse_field("x=1:s%").is_err());
        assert!(parse(&[("t", "package p\nA f=1:Missing")]).is_err());
    }
}
