//! `coverage.yaml`: every upstream conformance test (Ginkgo name, from upstream's
//! `test/conformance/testdata/conformance.yaml`) mapped to the harness tests that check
//! the same behaviour, or to `not-yet: <reason>`.

use std::collections::{BTreeMap, HashSet};

const COVERAGE_YAML: &str = include_str!("../coverage.yaml");

/// Where one upstream test stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// Harness test ids (`area/name`) that together check the behaviour.
    Covered(Vec<String>),
    NotYet(String),
}

pub struct Coverage {
    pub entries: BTreeMap<String, Mapping>,
}

impl Coverage {
    /// The file built into this binary.
    pub fn builtin() -> anyhow::Result<Coverage> {
        Coverage::parse(COVERAGE_YAML)
    }

    pub fn parse(text: &str) -> anyhow::Result<Coverage> {
        let raw: BTreeMap<String, String> =
            serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("coverage.yaml: {e}"))?;
        let mut entries = BTreeMap::new();
        for (upstream, value) in raw {
            let mapping = match value.strip_prefix("not-yet:") {
                Some(reason) => Mapping::NotYet(reason.trim().to_string()),
                None => Mapping::Covered(
                    value
                        .split(',')
                        .map(|id| id.trim().to_string())
                        .filter(|id| !id.is_empty())
                        .collect(),
                ),
            };
            if mapping == Mapping::Covered(Vec::new()) || mapping == Mapping::NotYet(String::new())
            {
                anyhow::bail!("coverage.yaml: {upstream:?} maps to nothing; say not-yet and why");
            }
            entries.insert(upstream, mapping);
        }
        Ok(Coverage { entries })
    }

    pub fn total(&self) -> usize {
        self.entries.len()
    }

    /// Upstream tests mapped to harness tests that all exist in `known`.
    pub fn covered(&self, known: &HashSet<String>) -> usize {
        self.entries
            .values()
            .filter(|m| match m {
                Mapping::Covered(ids) => ids.iter().all(|id| known.contains(id)),
                Mapping::NotYet(_) => false,
            })
            .count()
    }

    /// Ids named in the file that no harness test has.
    pub fn unknown_ids(&self, known: &HashSet<String>) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries
            .values()
            .filter_map(|m| match m {
                Mapping::Covered(ids) => Some(ids),
                Mapping::NotYet(_) => None,
            })
            .flatten()
            .filter(|id| !known.contains(*id))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The upstream tests a harness test stands for.
    pub fn upstream_of(&self, id: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, m)| matches!(m, Mapping::Covered(ids) if ids.iter().any(|i| i == id)))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Covered upstream tests whose harness tests all passed in this run.
    pub fn passed(&self, passed: &HashSet<String>) -> usize {
        self.covered(passed)
    }

    /// The closing coverage sentence of a report.
    pub fn sentence(&self, known: &HashSet<String>) -> String {
        format!(
            "covers {} of {} upstream conformance behaviours",
            self.covered(known),
            self.total()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        crate::suites::all().iter().map(|t| t.id()).collect()
    }

    #[test]
    fn the_built_in_file_parses_and_names_only_existing_tests() {
        let c = Coverage::builtin().unwrap();
        assert!(c.total() >= 400, "only {} upstream tests listed", c.total());
        for name in c.entries.keys() {
            assert!(
                name.ends_with("[Conformance]"),
                "{name:?} is not an upstream conformance test name"
            );
        }
        let unknown = c.unknown_ids(&known());
        assert!(
            unknown.is_empty(),
            "coverage.yaml names unknown tests: {unknown:?}"
        );
        assert!(c.covered(&known()) > 0);
    }

    #[test]
    fn counting_needs_every_named_test() {
        let c = Coverage::parse(
            "'a [Conformance]': x/one, x/two\n'b [Conformance]': 'not-yet: needs kubelet'\n'c [Conformance]': x/one\n",
        )
        .unwrap();
        let only_one: HashSet<String> = ["x/one".to_string()].into();
        assert_eq!(c.covered(&only_one), 1);
        let both: HashSet<String> = ["x/one".to_string(), "x/two".to_string()].into();
        assert_eq!(c.covered(&both), 2);
        assert_eq!(c.total(), 3);
        assert_eq!(
            c.upstream_of("x/one"),
            vec!["a [Conformance]", "c [Conformance]"]
        );
        assert_eq!(
            c.sentence(&both),
            "covers 2 of 3 upstream conformance behaviours"
        );
    }

    #[test]
    fn duplicates_and_empty_mappings_are_refused() {
        assert!(Coverage::parse("'a': x/one\n'a': x/two\n").is_err());
        assert!(Coverage::parse("'a': 'not-yet:'\n").is_err());
    }
}
