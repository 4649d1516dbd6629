//! Writes a volume's files so that a reader never sees a half-updated set, like upstream's
//! AtomicWriter: the files live in a hidden timestamped directory, `..data` is a symlink to
//! the current one, and each visible top-level name is a symlink through `..data`. An
//! update writes a new directory and swaps `..data` with one rename.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

/// One file of a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// The files of a volume by relative path.
pub type Payload = BTreeMap<String, FileData>;

const DATA_LINK: &str = "..data";
const NEW_DATA_LINK: &str = "..data_tmp";

/// Whether a payload path is relative, without `..`, and not hidden behind `..`.
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with("..")
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn first_component(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

/// What `dir` holds now, read through `..data` (None when nothing was written yet).
fn current(dir: &Path) -> Option<Payload> {
    let data = dir.join(DATA_LINK);
    std::fs::read_link(&data).ok()?;
    let mut out = Payload::new();
    read_tree(&data, "", &mut out).ok()?;
    Some(out)
}

fn read_tree(dir: &Path, prefix: &str, out: &mut Payload) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = entry.metadata()?;
        if meta.is_dir() {
            read_tree(&entry.path(), &rel, out)?;
        } else {
            out.insert(
                rel,
                FileData {
                    data: std::fs::read(entry.path())?,
                    mode: meta.permissions().mode() & 0o7777,
                },
            );
        }
    }
    Ok(())
}

/// Makes `dir` hold exactly `payload`; does nothing when it already does. Returns whether
/// it wrote.
pub fn write(dir: &Path, payload: &Payload) -> std::io::Result<bool> {
    if let Some(bad) = payload.keys().find(|p| !valid_path(p)) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("invalid file path {bad:?}"),
        ));
    }
    if current(dir).as_ref() == Some(payload) {
        return Ok(false);
    }
    std::fs::create_dir_all(dir)?;
    let old_target = std::fs::read_link(dir.join(DATA_LINK)).ok();
    let stamp = jiff::Timestamp::now()
        .strftime("..%Y_%m_%d_%H_%M_%S.%f")
        .to_string();
    let new_dir = dir.join(&stamp);
    std::fs::create_dir(&new_dir)?;
    std::fs::set_permissions(&new_dir, std::fs::Permissions::from_mode(0o755))?;
    for (path, file) in payload {
        let target = new_dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &file.data)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(file.mode))?;
    }
    let tmp_link = dir.join(NEW_DATA_LINK);
    let _ = std::fs::remove_file(&tmp_link);
    std::os::unix::fs::symlink(&stamp, &tmp_link)?;
    std::fs::rename(&tmp_link, dir.join(DATA_LINK))?;

    let wanted: BTreeSet<&str> = payload.keys().map(|p| first_component(p)).collect();
    for name in &wanted {
        let link = dir.join(name);
        let through = Path::new(DATA_LINK).join(name);
        if std::fs::read_link(&link).ok().as_deref() != Some(through.as_path()) {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&through, &link)?;
        }
    }
    // Visible names the new payload no longer has.
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !wanted.contains(name.as_str()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old_target {
        if old != Path::new(&stamp) {
            let _ = std::fs::remove_dir_all(dir.join(old));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str, mode: u32) -> FileData {
        FileData {
            data: text.as_bytes().to_vec(),
            mode,
        }
    }

    #[test]
    fn writes_swaps_and_prunes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vol");
        let first = Payload::from([
            ("a".to_string(), file("1", 0o644)),
            ("sub/b".to_string(), file("2", 0o400)),
        ]);
        assert!(write(&dir, &first).unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(dir.join("sub/b")).unwrap(), "2");
        assert_eq!(
            std::fs::read_link(dir.join("a")).unwrap(),
            Path::new("..data/a")
        );
        let mode = std::fs::metadata(dir.join("sub/b"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        let old = std::fs::read_link(dir.join("..data")).unwrap();
        // The same payload again writes nothing.
        assert!(!write(&dir, &first).unwrap());
        let second = Payload::from([("a".to_string(), file("changed", 0o644))]);
        assert!(write(&dir, &second).unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "changed");
        assert!(!dir.join("sub").exists());
        assert!(!dir.join(old).exists(), "the old data directory is removed");
        let hidden: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".."))
            .collect();
        assert_eq!(hidden.len(), 2, "..data and one data directory: {hidden:?}");
    }

    #[test]
    fn refuses_escaping_paths() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/x", "a/../../x", "..data"] {
            let payload = Payload::from([(bad.to_string(), file("x", 0o644))]);
            assert!(write(tmp.path(), &payload).is_err(), "{bad}");
        }
    }
}
