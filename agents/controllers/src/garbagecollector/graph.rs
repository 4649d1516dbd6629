//! The garbage collector's dependency graph (upstream's GraphBuilder): one node per
//! observed object, linked to its owners through ownerReferences. An owner referenced
//! before it is observed is a *virtual* node until it is seen or found absent. Graph
//! changes say which objects to look at next: dependents of a deleted owner, owners
//! that started a foreground deletion or wait for their dependents, owners to orphan.
//! No I/O here: the caller applies events and runs the work.

use std::collections::{HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub const ORPHAN_FINALIZER: &str = "orphan";
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// Where an object lives, as an API client addresses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
}

/// What a watch event says about an object.
#[derive(Debug, Clone)]
pub struct Observed {
    pub identity: Identity,
    pub owners: Vec<OwnerReference>,
    pub deleting: bool,
    pub finalizers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub identity: Identity,
    pub owners: Vec<OwnerReference>,
    pub dependents: HashSet<String>,
    pub being_deleted: bool,
    /// Being deleted in the foreground: waits for its blocking dependents.
    pub deleting_dependents: bool,
    pub is_virtual: bool,
}

/// Work the graph asks for, by uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Look at this object: should it be deleted, or may it be finalized?
    AttemptToDelete(String),
    /// Strip this owner from its dependents, then drop its orphan finalizer.
    AttemptToOrphan(String),
}

#[derive(Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
}

impl Graph {
    pub fn node(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Dependents that name `uid` as an owner with blockOwnerDeletion.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<&Node> {
        let Some(owner) = self.nodes.get(uid) else {
            return Vec::new();
        };
        owner
            .dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|r| r.uid == uid && r.block_owner_deletion == Some(true))
            })
            .collect()
    }

    /// Uids of the observed (not virtual) nodes of one kind, to spot objects deleted
    /// while a watch was down.
    pub fn observed_of(&self, api_version: &str, kind: &str) -> Vec<String> {
        self.nodes
            .values()
            .filter(|n| {
                !n.is_virtual && n.identity.api_version == api_version && n.identity.kind == kind
            })
            .map(|n| n.identity.uid.clone())
            .collect()
    }

    /// An object was added or changed. `owner_namespace` says where an owner named by
    /// this object lives (its namespace for namespaced kinds, none for cluster ones).
    pub fn upsert(
        &mut self,
        obj: Observed,
        owner_namespace: impl Fn(&OwnerReference) -> Option<String>,
    ) -> Vec<Work> {
        let uid = obj.identity.uid.clone();
        let mut work = Vec::new();
        let (old_owners, was_virtual) = match self.nodes.get(&uid) {
            Some(n) => (n.owners.clone(), n.is_virtual),
            None => (Vec::new(), false),
        };
        let node = self.nodes.entry(uid.clone()).or_insert_with(|| Node {
            identity: obj.identity.clone(),
            owners: Vec::new(),
            dependents: HashSet::new(),
            being_deleted: false,
            deleting_dependents: false,
            is_virtual: false,
        });
        if was_virtual {
            node.is_virtual = false;
        }
        node.identity = obj.identity.clone();
        node.owners = obj.owners.clone();
        node.being_deleted = obj.deleting;

        // Owners gone from the list, or no longer blocked on: a waiting owner may go on.
        for old in &old_owners {
            let now = obj.owners.iter().find(|r| r.uid == old.uid);
            if now.is_none() {
                if let Some(owner) = self.nodes.get_mut(&old.uid) {
                    owner.dependents.remove(&uid);
                }
            }
            let unblocked = old.block_owner_deletion == Some(true)
                && now.is_none_or(|r| r.block_owner_deletion != Some(true));
            if unblocked
                && self
                    .nodes
                    .get(&old.uid)
                    .is_some_and(|o| o.deleting_dependents)
            {
                work.push(Work::AttemptToDelete(old.uid.clone()));
            }
        }
        // New owners: link, creating a virtual node (to be verified) for an unseen one.
        for reference in &obj.owners {
            match self.nodes.get_mut(&reference.uid) {
                Some(owner) => {
                    owner.dependents.insert(uid.clone());
                }
                None => {
                    let mut dependents = HashSet::new();
                    dependents.insert(uid.clone());
                    self.nodes.insert(
                        reference.uid.clone(),
                        Node {
                            identity: Identity {
                                api_version: reference.api_version.clone(),
                                kind: reference.kind.clone(),
                                namespace: owner_namespace(reference),
                                name: reference.name.clone(),
                                uid: reference.uid.clone(),
                            },
                            owners: Vec::new(),
                            dependents,
                            being_deleted: false,
                            deleting_dependents: false,
                            is_virtual: true,
                        },
                    );
                    work.push(Work::AttemptToDelete(reference.uid.clone()));
                }
            }
        }
        work.extend(self.transitions(&uid, &obj));
        work
    }

    /// Deletion with the orphan finalizer: orphan the dependents. With the
    /// foregroundDeletion finalizer: delete them, then look at the owner again.
    fn transitions(&mut self, uid: &str, obj: &Observed) -> Vec<Work> {
        if !obj.deleting {
            return Vec::new();
        }
        let has = |f: &str| obj.finalizers.iter().any(|x| x == f);
        if has(ORPHAN_FINALIZER) {
            return vec![Work::AttemptToOrphan(uid.to_string())];
        }
        if !has(FOREGROUND_FINALIZER) {
            return Vec::new();
        }
        let Some(node) = self.nodes.get_mut(uid) else {
            return Vec::new();
        };
        node.deleting_dependents = true;
        let mut work: Vec<Work> = node
            .dependents
            .iter()
            .map(|d| Work::AttemptToDelete(d.clone()))
            .collect();
        work.push(Work::AttemptToDelete(uid.to_string()));
        work
    }

    /// An object is gone (deleted, or a virtual owner found absent): its dependents are
    /// looked at (their owner is dangling now), and so are owners waiting for it.
    pub fn remove(&mut self, uid: &str) -> Vec<Work> {
        let Some(node) = self.nodes.remove(uid) else {
            return Vec::new();
        };
        let mut work: Vec<Work> = node
            .dependents
            .iter()
            .map(|d| Work::AttemptToDelete(d.clone()))
            .collect();
        for reference in &node.owners {
            if let Some(owner) = self.nodes.get_mut(&reference.uid) {
                owner.dependents.remove(uid);
                if owner.deleting_dependents {
                    work.push(Work::AttemptToDelete(reference.uid.clone()));
                }
                // A virtual owner nobody names any more is forgotten.
                if owner.is_virtual && owner.dependents.is_empty() {
                    self.nodes.remove(&reference.uid);
                }
            }
        }
        work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(kind: &str, name: &str, uid: &str) -> Identity {
        Identity {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: Some("ns".into()),
            name: name.into(),
            uid: uid.into(),
        }
    }

    fn owned_by(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: format!("cm-{uid}"),
            uid: uid.into(),
            block_owner_deletion: Some(block),
            controller: None,
        }
    }

    fn observed(uid: &str, owners: Vec<OwnerReference>) -> Observed {
        Observed {
            identity: identity("ConfigMap", &format!("cm-{uid}"), uid),
            owners,
            deleting: false,
            finalizers: Vec::new(),
        }
    }

    fn ns(_: &OwnerReference) -> Option<String> {
        Some("ns".into())
    }

    #[test]
    fn an_unseen_owner_is_virtual_until_observed() {
        let mut g = Graph::default();
        let work = g.upsert(observed("dep", vec![owned_by("own", true)]), ns);
        assert_eq!(work, vec![Work::AttemptToDelete("own".into())]);
        assert!(g.node("own").unwrap().is_virtual);
        assert_eq!(
            g.node("own").unwrap().identity.namespace.as_deref(),
            Some("ns")
        );
        assert!(g.upsert(observed("own", vec![]), ns).is_empty());
        assert!(!g.node("own").unwrap().is_virtual);
        assert!(g.node("own").unwrap().dependents.contains("dep"));
    }

    #[test]
    fn a_deleted_owner_sends_its_dependents_to_be_looked_at() {
        let mut g = Graph::default();
        g.upsert(observed("own", vec![]), ns);
        g.upsert(observed("a", vec![owned_by("own", false)]), ns);
        g.upsert(observed("b", vec![owned_by("own", false)]), ns);
        let mut work = g.remove("own");
        work.sort_by_key(|w| format!("{w:?}"));
        assert_eq!(
            work,
            vec![
                Work::AttemptToDelete("a".into()),
                Work::AttemptToDelete("b".into())
            ]
        );
    }

    #[test]
    fn foreground_deletion_waits_for_blocking_dependents() {
        let mut g = Graph::default();
        g.upsert(observed("own", vec![]), ns);
        g.upsert(observed("a", vec![owned_by("own", true)]), ns);
        g.upsert(observed("b", vec![owned_by("own", false)]), ns);
        let mut deleting = observed("own", vec![]);
        deleting.deleting = true;
        deleting.finalizers = vec![FOREGROUND_FINALIZER.into()];
        let work = g.upsert(deleting, ns);
        assert!(work.contains(&Work::AttemptToDelete("a".into())));
        assert!(work.contains(&Work::AttemptToDelete("own".into())));
        assert!(g.node("own").unwrap().deleting_dependents);
        let blocking: Vec<&str> = g
            .blocking_dependents("own")
            .iter()
            .map(|n| n.identity.uid.as_str())
            .collect();
        assert_eq!(blocking, vec!["a"]);
        // The blocking dependent goes: the owner is looked at again.
        assert_eq!(g.remove("a"), vec![Work::AttemptToDelete("own".into())]);
        assert!(g.blocking_dependents("own").is_empty());
    }

    #[test]
    fn dropping_a_blocking_reference_wakes_a_waiting_owner_and_orphaning_is_asked_for() {
        let mut g = Graph::default();
        let mut owner = observed("own", vec![]);
        g.upsert(owner.clone(), ns);
        g.upsert(observed("a", vec![owned_by("own", true)]), ns);
        owner.deleting = true;
        owner.finalizers = vec![FOREGROUND_FINALIZER.into()];
        g.upsert(owner.clone(), ns);
        let work = g.upsert(observed("a", vec![owned_by("own", false)]), ns);
        assert_eq!(work, vec![Work::AttemptToDelete("own".into())]);
        owner.finalizers = vec![ORPHAN_FINALIZER.into()];
        assert_eq!(
            g.upsert(owner, ns),
            vec![Work::AttemptToOrphan("own".into())]
        );
    }
}
