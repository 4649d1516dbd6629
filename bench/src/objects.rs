//! The objects the benchmark writes: a realistic pod (about 2 KB once stored with its
//! defaults and managedFields) and a ConfigMap of about 2 KB.

/// A request body with a name to fill in, split once so rendering is two copies.
#[derive(Debug, Clone)]
pub struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
}

const NAME: &str = "__NAME__";

impl Template {
    /// `text` must contain `__NAME__` exactly once.
    pub fn new(text: &str) -> Template {
        let (head, tail) = text.split_once(NAME).expect("the template has a name");
        assert!(!tail.contains(NAME), "the template has one name");
        Template {
            head: head.as_bytes().to_vec(),
            tail: tail.as_bytes().to_vec(),
        }
    }

    pub fn render(&self, name: &str) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.head.len() + name.len() + self.tail.len());
        b.extend_from_slice(&self.head);
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(&self.tail);
        b
    }
}

/// A pod as a Deployment's ReplicaSet would create it (labels, owner, one container with
/// a port, env and resources): about 600 B as posted and about 2.1 KB as stored, where
/// the defaults and the managedFields entry are added.
pub fn pod() -> Template {
    Template::new(
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"__NAME__","labels":{"app":"web","pod-template-hash":"5d9c7b8f4d"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d9c7b8f4d","uid":"6c1f3f5e-8d1b-4a53-9d0e-2b7f8c2a9e11","controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[{"name":"web","image":"registry.k8s.io/nginx-slim:0.27","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],"env":[{"name":"LOG_LEVEL","value":"info"}],"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}}}],"nodeSelector":{"kubernetes.io/os":"linux"}}}"#,
    )
}

/// A ConfigMap of about 2 KB.
pub fn configmap() -> Template {
    let line = "server.listen=0.0.0.0:8080 server.workers=4 cache.size=256Mi\\n";
    let mut conf = String::new();
    while conf.len() < 1700 {
        conf.push_str(line);
    }
    Template::new(&format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"__NAME__","labels":{{"app":"web"}}}},"data":{{"app.properties":"{conf}","mode":"production"}}}}"#
    ))
}

pub fn namespace(name: &str) -> Vec<u8> {
    format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#)
        .into_bytes()
}

/// The name in a watch event line for pods named `<prefix><number>`: the first
/// `"name":"` of the line is the object's (metadata comes first in what the apiserver
/// stores; the ownerReference's name comes after it).
pub fn watched_seq(line: &[u8], prefix: &str) -> Option<u64> {
    let needle = format!("\"name\":\"{prefix}");
    // The object's name comes early: no need to look through the whole line.
    let head = &line[..line.len().min(512)];
    let at = find(head, needle.as_bytes())? + needle.len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || line.get(at + digits) != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_valid_json() {
        for (t, kind) in [(pod(), "Pod"), (configmap(), "ConfigMap")] {
            let b = t.render("x-1");
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["kind"], kind);
            assert_eq!(v["metadata"]["name"], "x-1");
        }
        let cm = configmap().render("c");
        assert!((1800..2300).contains(&cm.len()), "{}", cm.len());
        let ns: serde_json::Value = serde_json::from_slice(&namespace("n1")).unwrap();
        assert_eq!(ns["metadata"]["name"], "n1");
    }

    #[test]
    fn sequence_numbers_from_watch_lines() {
        let line = br#"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"w-1234","namespace":"watch","ownerReferences":[{"name":"w-9"}]}}}"#;
        assert_eq!(watched_seq(line, "w-"), Some(1234));
        assert_eq!(watched_seq(line, "x-"), None);
        assert_eq!(watched_seq(br#"{"name":"w-12a"}"#, "w-"), None);
        assert_eq!(watched_seq(br#"{"name":"w-"}"#, "w-"), None);
        let ev = format!(
            r#"{{"type":"ADDED","object":{}}}"#,
            String::from_utf8(pod().render("w-77")).unwrap()
        );
        assert_eq!(watched_seq(ev.as_bytes(), "w-"), Some(77));
    }
}
