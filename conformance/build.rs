//! Builds the stored snapshot set (`snapshots/*.snap`) into the binary, so
//! `rkube conformance` compares against it from anywhere, without the source tree.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("snapshots");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "snap"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("pub static SNAPSHOTS: &[(&str, &str)] = &[\n");
    for path in &files {
        let key = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("snapshot file names are UTF-8");
        writeln!(
            out,
            "    ({key:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin_snapshots.rs");
    std::fs::write(target, out).expect("writing the snapshot table");
}
