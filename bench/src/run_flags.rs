//! The flags every bench that starts rkube processes shares: which binary, where its
//! temporary data goes, and where the Markdown report is written.

use std::path::PathBuf;

use anyhow::Context as _;

#[derive(Debug, Clone, clap::Args)]
pub struct RunFlags {
    /// The rkube binary to start the cluster's processes from [this binary].
    #[arg(long, value_name = "path")]
    pub rkube_binary: Option<PathBuf>,
    /// Where the temporary data directory goes [the system temp dir].
    #[arg(long, value_name = "dir")]
    pub work_dir: Option<PathBuf>,
    /// Also write the machine, the command and the table as Markdown to this file.
    #[arg(long, value_name = "file")]
    pub markdown: Option<PathBuf>,
}

impl RunFlags {
    /// `--rkube-binary`, or the running executable.
    pub fn binary(&self) -> anyhow::Result<PathBuf> {
        match &self.rkube_binary {
            Some(b) => Ok(b.clone()),
            None => std::env::current_exe().context("finding this binary"),
        }
    }

    /// A fresh temporary directory under `--work-dir`, removed when dropped.
    pub fn temp_dir(&self, prefix: &str) -> anyhow::Result<tempfile::TempDir> {
        let work = self.work_dir.clone().unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        Ok(tempfile::Builder::new().prefix(prefix).tempdir_in(&work)?)
    }
}
