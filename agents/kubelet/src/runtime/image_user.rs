//! Who a container runs as when the pod does not say: the image's USER (`user`,
//! `user:group`, `uid`, `uid:group`…) resolved in the image's /etc/passwd and
//! /etc/group as containerd resolves it, plus the supplementary groups containerd and the
//! kubelet add (the user's groups in the image's /etc/group unless the pod's
//! supplementalGroupsPolicy is Strict, supplementalGroups, fsGroup).

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Container, Pod};

/// The process credentials of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups besides `gid`.
    pub groups: Vec<u32>,
    /// The uid's home directory in the image's /etc/passwd, else `/`: HOME when neither
    /// the image nor the pod sets it, as runc sets it.
    pub home: String,
}

/// One line of /etc/passwd: name, uid, gid, home directory.
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

/// One line of /etc/group: name, gid, members.
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: fields.first()?.to_string(),
                uid: fields.get(2)?.parse().ok()?,
                gid: fields.get(3)?.parse().ok()?,
                home: fields.get(5).map(|h| h.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

fn groups(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(GroupEntry {
                name: fields.first()?.to_string(),
                gid: fields.get(2)?.parse().ok()?,
                members: fields
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|m| !m.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The image's /etc/passwd and /etc/group (empty when it has none).
pub struct ImageAccounts {
    passwd: Vec<PasswdEntry>,
    group: Vec<GroupEntry>,
}

impl ImageAccounts {
    /// Read through the image's layers, bottom first.
    pub fn read(layers: &[PathBuf]) -> ImageAccounts {
        let text = |path: &str| {
            rkube_images::read_layered_file(layers, path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        ImageAccounts::parse(&text("/etc/passwd"), &text("/etc/group"))
    }

    pub fn parse(passwd_text: &str, group_text: &str) -> ImageAccounts {
        ImageAccounts {
            passwd: passwd(passwd_text),
            group: groups(group_text),
        }
    }

    /// A user string as containerd's WithUser reads it: `uid` (its gid from /etc/passwd,
    /// else 0), `name` (must be in /etc/passwd), `user:group` with either part a number
    /// or a name (names must exist).
    pub fn resolve(&self, user: &str) -> Result<(u32, u32), String> {
        let parts: Vec<&str> = user.split(':').collect();
        let by_name = |name: &str| {
            self.passwd.iter().find(|p| p.name == name).ok_or_else(|| {
                format!("unable to find user {name}: no matching entries in passwd file")
            })
        };
        match parts.as_slice() {
            [one] => match one.parse::<u32>() {
                Ok(uid) => Ok((
                    uid,
                    self.passwd
                        .iter()
                        .find(|p| p.uid == uid)
                        .map_or(0, |p| p.gid),
                )),
                Err(_) => by_name(one).map(|p| (p.uid, p.gid)),
            },
            [user, group] => {
                let uid = match user.parse::<u32>() {
                    Ok(uid) => uid,
                    Err(_) => by_name(user)?.uid,
                };
                let gid = match group.parse::<u32>() {
                    Ok(gid) => gid,
                    Err(_) => {
                        self.group
                            .iter()
                            .find(|g| g.name == *group)
                            .ok_or_else(|| {
                                format!(
                                "unable to find group {group}: no matching entries in group file"
                            )
                            })?
                            .gid
                    }
                };
                Ok((uid, gid))
            }
            _ => Err(format!("invalid USER value {user}")),
        }
    }

    /// The groups of /etc/group that list the user (a name or a uid found in
    /// /etc/passwd) as a member, but not its own group of the same name: containerd's
    /// WithAdditionalGIDs.
    pub fn member_groups(&self, user: &str) -> Vec<u32> {
        let name = match user.parse::<u32>() {
            Ok(uid) => match self.passwd.iter().find(|p| p.uid == uid) {
                Some(p) => p.name.clone(),
                None => return Vec::new(),
            },
            Err(_) => user.to_string(),
        };
        self.group
            .iter()
            .filter(|g| g.name != name && g.members.contains(&name))
            .map(|g| g.gid)
            .collect()
    }
}

/// The container's uid, gid and supplementary groups: runAsUser/runAsGroup (container,
/// else pod) over the image's USER, resolved in the image's accounts; then the user's
/// groups in the image, supplementalGroups and fsGroup.
pub fn identity(
    pod: &Pod,
    c: &Container,
    image_user: &str,
    accounts: &ImageAccounts,
) -> Result<Identity, String> {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = c.security_context.as_ref();
    let run_as_user = sc
        .and_then(|s| s.run_as_user)
        .or(pod_sc.and_then(|s| s.run_as_user));
    let run_as_group = sc
        .and_then(|s| s.run_as_group)
        .or(pod_sc.and_then(|s| s.run_as_group));
    // What containerd is given: the pod's numbers, else the image's USER.
    let image_user_part = image_user.split(':').next().unwrap_or("");
    let user = match (run_as_user, run_as_group) {
        (Some(uid), Some(gid)) => format!("{uid}:{gid}"),
        (Some(uid), None) => uid.to_string(),
        (None, Some(gid)) if !image_user_part.is_empty() => format!("{image_user_part}:{gid}"),
        (None, Some(gid)) => format!("0:{gid}"),
        (None, None) if image_user.is_empty() => "0".to_string(),
        (None, None) => image_user.to_string(),
    };
    let (uid, gid) = accounts.resolve(&user)?;
    // The groups of the user itself (not of an explicit group), as containerd looks them up.
    let member_of = match run_as_user {
        Some(uid) => uid.to_string(),
        None if image_user_part.is_empty() => "0".to_string(),
        None => image_user_part.to_string(),
    };
    // supplementalGroupsPolicy Strict: only the pod's groups, none from the image.
    let strict = pod_sc.and_then(|s| s.supplemental_groups_policy.as_deref()) == Some("Strict");
    let mut groups = if strict {
        Vec::new()
    } else {
        accounts.member_groups(&member_of)
    };
    let pod_groups = pod_sc.into_iter().flat_map(|s| {
        s.supplemental_groups
            .iter()
            .flatten()
            .copied()
            .chain(s.fs_group)
    });
    groups.extend(pod_groups.filter_map(|g| u32::try_from(g).ok()));
    let mut seen = std::collections::HashSet::new();
    groups.retain(|g| *g != gid && seen.insert(*g));
    let home = accounts
        .passwd
        .iter()
        .find(|p| p.uid == uid && !p.home.is_empty())
        .map_or_else(|| "/".to_string(), |p| p.home.clone());
    Ok(Identity {
        uid,
        gid,
        groups,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1500:1600::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\napp:x:1600:app\nstaff:x:50:app,other\naudio:x:63:other\n";

    fn accounts() -> ImageAccounts {
        ImageAccounts::parse(PASSWD, GROUP)
    }

    fn pod(sc: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"},
            "spec": {"securityContext": sc, "containers": [{"name": "a"}]}}))
        .unwrap()
    }

    fn bare() -> Container {
        serde_json::from_value(json!({"name": "a"})).unwrap()
    }

    #[test]
    fn user_strings_resolve_like_containerd() {
        let a = accounts();
        assert_eq!(a.resolve("app"), Ok((1500, 1600)));
        assert_eq!(a.resolve("1500"), Ok((1500, 1600)));
        assert_eq!(a.resolve("4242"), Ok((4242, 0)));
        assert_eq!(a.resolve("app:staff"), Ok((1500, 50)));
        assert_eq!(a.resolve("1500:staff"), Ok((1500, 50)));
        assert_eq!(a.resolve("app:7"), Ok((1500, 7)));
        assert_eq!(a.resolve("7:8"), Ok((7, 8)));
        assert!(a
            .resolve("ghost")
            .unwrap_err()
            .contains("unable to find user ghost"));
        assert!(a
            .resolve("app:ghosts")
            .unwrap_err()
            .contains("unable to find group ghosts"));
        assert!(a.resolve("a:b:c").is_err());
        assert_eq!(a.member_groups("app"), [50]);
        assert_eq!(a.member_groups("1500"), [50]);
        assert!(a.member_groups("4242").is_empty());
    }

    #[test]
    fn the_pod_overrides_the_image_and_adds_groups() {
        let a = accounts();
        let id = |sc: serde_json::Value, image: &str| identity(&pod(sc), &bare(), image, &a);
        assert_eq!(
            id(json!({}), "app"),
            Ok(Identity {
                uid: 1500,
                gid: 1600,
                groups: vec![50],
                home: "/home/app".into()
            })
        );
        assert_eq!(
            id(json!({}), "").map(|i| (i.uid, i.gid, i.home)),
            Ok((0, 0, "/root".to_string()))
        );
        // A numeric USER needs no accounts; root in the pod wins over it.
        assert_eq!(
            id(json!({}), "1000:1001"),
            Ok(Identity {
                uid: 1000,
                gid: 1001,
                groups: vec![],
                home: "/".into()
            })
        );
        assert_eq!(
            id(json!({"runAsUser": 0}), "1000:1001").map(|i| i.uid),
            Ok(0)
        );
        // runAsUser alone: the gid of that uid in the image, as containerd's WithUserID.
        assert_eq!(
            id(json!({"runAsUser": 1500}), "nobody"),
            Ok(Identity {
                uid: 1500,
                gid: 1600,
                groups: vec![50],
                home: "/home/app".into()
            })
        );
        assert_eq!(
            id(
                json!({"runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000], "fsGroup": 2000}),
                "app"
            ),
            Ok(Identity {
                uid: 1000,
                gid: 3000,
                groups: vec![4000, 2000],
                home: "/".into()
            })
        );
        assert_eq!(
            id(json!({"runAsGroup": 3000}), "app:staff"),
            Ok(Identity {
                uid: 1500,
                gid: 3000,
                groups: vec![50],
                home: "/home/app".into()
            })
        );
        assert!(id(json!({}), "ghost").is_err());
        // supplementalGroupsPolicy Strict leaves out the image's memberships.
        assert_eq!(
            id(
                json!({"supplementalGroupsPolicy": "Strict", "supplementalGroups": [4000]}),
                "app"
            )
            .map(|i| i.groups),
            Ok(vec![4000])
        );
    }
}
