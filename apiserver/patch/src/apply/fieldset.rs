//! Sets of field paths, the unit of ownership in server-side apply, with the
//! ordering and operations of sigs.k8s.io/structured-merge-diff's fieldpath.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::go_format::{go_float, go_quote, write_go_json, write_json_string};

/// One step of a path: an object field, a list-map item by its keys, a set
/// item by its value, or an index (atomic lists only).
#[derive(Debug, Clone)]
pub enum PathElement {
    Field(String),
    /// Key fields sorted by name.
    Key(Vec<(String, Value)>),
    Value(Value),
    Index(i64),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_key_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let c = x.0.cmp(&y.0).then_with(|| compare_values(&x.1, &y.1));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

/// structured-merge-diff's value order: numbers (ints and floats compared
/// numerically), then strings, booleans, lists, maps, null.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = compare_values(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for (p, q) in xs.iter().zip(&ys) {
                let c = p.0.cmp(q.0).then_with(|| compare_values(p.1, q.1));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Most keys a list-map declares (the schema's lists have one or two).
pub(crate) const MAX_KEYS: usize = 4;

/// A [`PathElement`] borrowed from the object it was read from, so that
/// walks compare and encode elements without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Elem<'a> {
    Field(&'a str),
    /// Key fields sorted by name.
    Key(KeyFields<'a>),
    Value(&'a Value),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFields<'a> {
    len: usize,
    fields: [(&'a str, &'a Value); MAX_KEYS],
}

impl<'a> KeyFields<'a> {
    /// Key fields in any order (at most [`MAX_KEYS`]); sorts them by name.
    pub(crate) fn new(unsorted: &[(&'a str, &'a Value)]) -> KeyFields<'a> {
        static NULL: Value = Value::Null;
        let mut fields = [("", &NULL); MAX_KEYS];
        fields[..unsorted.len()].copy_from_slice(unsorted);
        let len = unsorted.len();
        // Insertion sort: stable, like `sort_by` on the owned fields.
        for i in 1..len {
            let mut j = i;
            while j > 0 && fields[j - 1].0 > fields[j].0 {
                fields.swap(j - 1, j);
                j -= 1;
            }
        }
        KeyFields { len, fields }
    }

    pub(crate) fn fields(&self) -> &[(&'a str, &'a Value)] {
        &self.fields[..self.len]
    }
}

impl Elem<'_> {
    fn rank(&self) -> u8 {
        match self {
            Elem::Field(_) => 0,
            Elem::Key(_) => 1,
            Elem::Value(_) => 2,
        }
    }

    pub(crate) fn cmp(&self, other: &Elem<'_>) -> Ordering {
        match (self, other) {
            (Elem::Field(a), Elem::Field(b)) => a.cmp(b),
            (Elem::Key(a), Elem::Key(b)) => {
                let (a, b) = (a.fields(), b.fields());
                for (x, y) in a.iter().zip(b) {
                    let c = x.0.cmp(y.0).then_with(|| compare_values(x.1, y.1));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Elem::Value(a), Elem::Value(b)) => compare_values(a, b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// The order of this element against an owned one.
    pub(crate) fn cmp_owned(&self, other: &PathElement) -> Ordering {
        match (self, other) {
            (Elem::Field(a), PathElement::Field(b)) => (*a).cmp(b.as_str()),
            (Elem::Key(a), PathElement::Key(b)) => {
                let a = a.fields();
                for (x, y) in a.iter().zip(b) {
                    let c =
                        x.0.cmp(y.0.as_str())
                            .then_with(|| compare_values(x.1, &y.1));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Elem::Value(a), PathElement::Value(b)) => compare_values(a, b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    pub(crate) fn owned(self) -> PathElement {
        match self {
            Elem::Field(name) => PathElement::Field(name.to_string()),
            Elem::Key(k) => PathElement::Key(
                k.fields()
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), (*v).clone()))
                    .collect(),
            ),
            Elem::Value(v) => PathElement::Value(v.clone()),
        }
    }

    /// The fieldsV1 key of the element (as `encode_element` writes it).
    pub(crate) fn encode(&self) -> String {
        match self {
            Elem::Field(name) => {
                let mut out = String::with_capacity(name.len() + 2);
                out.push_str("f:");
                out.push_str(name);
                out
            }
            Elem::Key(k) => {
                let mut out = String::with_capacity(32);
                out.push_str("k:{");
                for (i, (name, value)) in k.fields().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(&mut out, name);
                    out.push(':');
                    write_go_json(&mut out, value);
                }
                out.push('}');
                out
            }
            Elem::Value(v) => {
                let mut out = String::from("v:");
                write_go_json(&mut out, v);
                out
            }
        }
    }
}

/// structured-merge-diff's `value.ToString`, used in path texts.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => go_quote(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect(),
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_text(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_text(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path as upstream prints it: `.spec.containers[name="nginx"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A set of paths: `members` end here, `children` lead further. Both are
/// sorted by path element and hold each element once; a child node is never
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    pub(crate) members: Vec<PathElement>,
    pub(crate) children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                if let Err(at) = self.members.binary_search(last) {
                    self.members.insert(at, last.clone());
                }
            }
            [first, rest @ ..] => {
                let at = match self.children.binary_search_by(|(pe, _)| pe.cmp(first)) {
                    Ok(at) => at,
                    Err(at) => {
                        self.children.insert(at, (first.clone(), FieldSet::new()));
                        at
                    }
                };
                self.children[at].1.insert(rest);
            }
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.has_member(last),
            [first, rest @ ..] => self.child(first).is_some_and(|c| c.has(rest)),
        }
    }

    pub(crate) fn has_member(&self, pe: &PathElement) -> bool {
        self.members.binary_search(pe).is_ok()
    }

    /// The subtree under `pe`, if any.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children
            .binary_search_by(|(c, _)| c.cmp(pe))
            .ok()
            .map(|at| &self.children[at].1)
    }

    /// Sorts members and children pushed in any order. Equal elements keep
    /// the first one pushed; equal children are united in push order.
    pub(crate) fn from_unsorted(
        mut members: Vec<PathElement>,
        mut children: Vec<(PathElement, FieldSet)>,
    ) -> FieldSet {
        if !members.is_sorted_by(|a, b| a < b) {
            members.sort();
            members.dedup();
        }
        if !children.is_sorted_by(|a, b| a.0 < b.0) {
            children.sort_by(|a, b| a.0.cmp(&b.0));
            let mut merged: Vec<(PathElement, FieldSet)> = Vec::with_capacity(children.len());
            for (pe, child) in children {
                match merged.last_mut() {
                    Some(last) if last.0 == pe => {
                        let mine = std::mem::take(&mut last.1);
                        last.1 = mine.union_owned(child);
                    }
                    _ => merged.push((pe, child)),
                }
            }
            children = merged;
        }
        FieldSet { members, children }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        // Merge both sorted lists, copying each element once (ties: ours).
        let mut members = Vec::with_capacity(self.members.len() + other.members.len());
        let mut theirs = other.members.iter().peekable();
        for pe in &self.members {
            while let Some(o) = theirs.next_if(|o| *o < pe) {
                members.push(o.clone());
            }
            theirs.next_if(|o| *o == pe);
            members.push(pe.clone());
        }
        members.extend(theirs.cloned());
        let mut children = Vec::with_capacity(self.children.len() + other.children.len());
        let mut theirs = other.children.iter().peekable();
        for (pe, child) in &self.children {
            while let Some(o) = theirs.next_if(|(o, _)| o < pe) {
                children.push(o.clone());
            }
            match theirs.next_if(|(o, _)| o == pe) {
                Some((_, t)) => children.push((pe.clone(), child.union(t))),
                None => children.push((pe.clone(), child.clone())),
            }
        }
        children.extend(theirs.cloned());
        FieldSet { members, children }
    }

    /// [`FieldSet::union`] taking both sets; elements of `self` win ties.
    pub(crate) fn union_owned(mut self, other: FieldSet) -> FieldSet {
        if other.is_empty() {
            return self;
        }
        if self.is_empty() {
            return other;
        }
        self.members = merge_members(std::mem::take(&mut self.members), other.members);
        if !other.children.is_empty() {
            if self.children.is_empty() {
                self.children = other.children;
            } else {
                let mine = std::mem::take(&mut self.children);
                let mut out = Vec::with_capacity(mine.len() + other.children.len());
                let mut theirs = other.children.into_iter().peekable();
                for (pe, child) in mine {
                    while let Some((o, _)) = theirs.peek() {
                        if *o < pe {
                            out.extend(theirs.next());
                        } else {
                            break;
                        }
                    }
                    match theirs.next_if(|(o, _)| *o == pe) {
                        Some((_, t)) => out.push((pe, child.union_owned(t))),
                        None => out.push((pe, child)),
                    }
                }
                out.extend(theirs);
                self.children = out;
            }
        }
        self
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self
            .members
            .iter()
            .filter(|m| !other.has_member(m))
            .cloned()
            .collect();
        let mut children = Vec::with_capacity(self.children.len());
        for (pe, child) in &self.children {
            let rest = match other.child(pe) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.push((pe.clone(), rest));
            }
        }
        FieldSet { members, children }
    }

    /// Removes `other`'s paths (not what lies beneath its members).
    pub(crate) fn remove(&mut self, other: &FieldSet) {
        remove_members(&mut self.members, &other.members);
        if other.children.is_empty() || self.children.is_empty() {
            return;
        }
        self.children.retain_mut(|(pe, child)| {
            if let Some(theirs) = other.child(pe) {
                child.remove(theirs);
            }
            !child.is_empty()
        });
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self
            .members
            .iter()
            .filter(|m| other.has_member(m))
            .cloned()
            .collect();
        let mut children = Vec::new();
        for (pe, child) in &self.children {
            if let Some(theirs) = other.child(pe) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    children.push((pe.clone(), both));
                }
            }
        }
        FieldSet { members, children }
    }

    /// Removes `other`'s paths and, for its members, everything beneath them.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self
            .members
            .iter()
            .filter(|m| !other.has_member(m))
            .cloned()
            .collect();
        let mut children = Vec::with_capacity(self.children.len());
        for (pe, child) in &self.children {
            if other.has_member(pe) {
                continue;
            }
            let rest = match other.child(pe) {
                Some(theirs) => child.recursive_difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.push((pe.clone(), rest));
            }
        }
        FieldSet { members, children }
    }

    /// [`FieldSet::recursive_difference`] in place.
    pub(crate) fn remove_recursive(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        remove_members(&mut self.members, &other.members);
        self.children.retain_mut(|(pe, child)| {
            if other.has_member(pe) {
                return false;
            }
            if let Some(theirs) = other.child(pe) {
                child.remove_recursive(theirs);
            }
            !child.is_empty()
        });
    }

    /// Every path, in upstream's iteration order: the members of a node
    /// first, then each child's paths.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }
}

/// Merges two sorted member lists; `mine` wins ties.
fn merge_members(mine: Vec<PathElement>, theirs: Vec<PathElement>) -> Vec<PathElement> {
    if theirs.is_empty() {
        return mine;
    }
    if mine.is_empty() {
        return theirs;
    }
    let mut out = Vec::with_capacity(mine.len() + theirs.len());
    let mut theirs = theirs.into_iter().peekable();
    for pe in mine {
        while let Some(o) = theirs.peek() {
            if *o < pe {
                out.extend(theirs.next());
            } else {
                break;
            }
        }
        theirs.next_if(|o| *o == pe);
        out.push(pe);
    }
    out.extend(theirs);
    out
}

fn remove_members(mine: &mut Vec<PathElement>, theirs: &[PathElement]) {
    if theirs.is_empty() || mine.is_empty() {
        return;
    }
    if theirs.len() <= 4 {
        for pe in theirs {
            if let Ok(at) = mine.binary_search(pe) {
                mine.remove(at);
            }
        }
    } else {
        mine.retain(|pe| theirs.binary_search(pe).is_err());
    }
}

/// Builds a path of field names (tests and fixed paths).
pub fn field_path(names: &[&str]) -> Vec<PathElement> {
    names
        .iter()
        .map(|n| PathElement::Field((*n).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> PathElement {
        PathElement::Key(vec![("name".to_string(), json!(name))])
    }

    #[test]
    fn set_operations() {
        let mut a = FieldSet::new();
        a.insert(&field_path(&["spec", "replicas"]));
        a.insert(&field_path(&["spec", "paused"]));
        let mut b = FieldSet::new();
        b.insert(&field_path(&["spec", "replicas"]));
        assert_eq!(
            a.difference(&b).paths(),
            vec![field_path(&["spec", "paused"])]
        );
        assert_eq!(a.intersection(&b), b);
        assert!(a.union(&b).has(&field_path(&["spec", "paused"])));
        let mut spec = FieldSet::new();
        spec.insert(&field_path(&["spec"]));
        assert!(a.recursive_difference(&spec).is_empty());
        assert!(!a.difference(&spec).is_empty());
    }

    #[test]
    fn paths_print_like_upstream() {
        let mut p = field_path(&["spec", "containers"]);
        p.push(key("nginx"));
        p.push(PathElement::Field("image".into()));
        assert_eq!(path_string(&p), ".spec.containers[name=\"nginx\"].image");
        let ports = PathElement::Key(vec![
            ("containerPort".into(), json!(80)),
            ("protocol".into(), json!("TCP")),
        ]);
        assert_eq!(ports.to_string(), "[containerPort=80,protocol=\"TCP\"]");
        assert_eq!(PathElement::Value(json!("a")).to_string(), "[=\"a\"]");
    }

    #[test]
    fn element_order_fields_keys_values_indices() {
        let mut v = [
            PathElement::Index(0),
            PathElement::Value(json!(1)),
            key("a"),
            PathElement::Field("z".into()),
        ];
        v.sort();
        assert!(matches!(v[0], PathElement::Field(_)) && matches!(v[3], PathElement::Index(_)));
        assert_eq!(PathElement::Value(json!(1)), PathElement::Value(json!(1.0)));
    }
}
