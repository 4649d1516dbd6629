//! Query parameters: parsed once, typed, unknown ones refused.

use rkube_api::selector::{FieldSelector, LabelSelector};
use rkube_api::table::IncludeObject;
use rkube_api::{ApiError, Resource};

use crate::registry::list::RvMatch;
use crate::registry::{DeleteOptions, FieldValidation, ListOptions};

/// Every parameter any endpoint accepts; anything else is a 400.
const KNOWN: &[&str] = &[
    "labelSelector",
    "fieldSelector",
    "limit",
    "continue",
    "resourceVersion",
    "resourceVersionMatch",
    "watch",
    "allowWatchBookmarks",
    "sendInitialEvents",
    "timeoutSeconds",
    "timeout",
    "pretty",
    "includeObject",
    "dryRun",
    "fieldManager",
    "fieldValidation",
    "force",
    "gracePeriodSeconds",
    "propagationPolicy",
    "orphanDependents",
    "container",
    "follow",
    "previous",
    "sinceSeconds",
    "sinceTime",
    "tailLines",
    "timestamps",
    "limitBytes",
    "insecureSkipTLSVerifyBackend",
    "export",
    "exact",
    "path",
    "stdin",
    "stdout",
    "stderr",
    "tty",
    "command",
    "ports",
    "hash",
];

#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

fn bad(param: &str, value: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "invalid value {value:?} for query parameter {param}: {why}"
    ))
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, _) in &pairs {
            if !KNOWN.contains(&k.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {k:?}"
                )));
            }
        }
        Ok(Query { pairs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(false),
            Some("true" | "1" | "True") => Ok(true),
            Some("false" | "0" | "False") => Ok(false),
            Some(v) => Err(bad(key, v, "must be a boolean")),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| bad(key, v, "must be an integer")),
        }
    }

    pub fn is_watch(&self) -> Result<bool, ApiError> {
        self.flag("watch")
    }

    pub fn dry_run(&self) -> Result<bool, ApiError> {
        let mut dry = false;
        for v in self.all("dryRun") {
            match v {
                "All" => dry = true,
                "" => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid dryRun value \"{other}\": supported values: \"All\""
                    )))
                }
            }
        }
        Ok(dry)
    }

    pub fn field_validation(&self) -> Result<FieldValidation, ApiError> {
        match self.get("fieldValidation") {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(v) => Err(ApiError::bad_request(format!(
                "fieldValidation invalid value: {v}. Must be one of: Ignore, Warn, Strict"
            ))),
        }
    }

    pub fn include_object(&self) -> Result<IncludeObject, ApiError> {
        match self.get("includeObject") {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(v) => Err(bad("includeObject", v, "must be None, Metadata or Object")),
        }
    }

    pub fn list_options(&self, r: &Resource) -> Result<ListOptions, ApiError> {
        let label_selector = match self.get("labelSelector").filter(|s| !s.is_empty()) {
            Some(s) => Some(LabelSelector::parse(s).map_err(ApiError::bad_request)?),
            None => None,
        };
        let field_selector = match self.get("fieldSelector").filter(|s| !s.is_empty()) {
            Some(s) => {
                let fs = FieldSelector::parse(s).map_err(ApiError::bad_request)?;
                fs.validate(r).map_err(ApiError::bad_request)?;
                Some(fs)
            }
            None => None,
        };
        let limit = match self.int("limit")? {
            Some(l) if l < 0 => return Err(bad("limit", &l.to_string(), "must not be negative")),
            Some(l) => Some(l as usize),
            None => None,
        };
        let resource_version_match = match self.get("resourceVersionMatch") {
            None | Some("") => None,
            Some("NotOlderThan") => Some(RvMatch::NotOlderThan),
            Some("Exact") => Some(RvMatch::Exact),
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "resourceVersionMatch: Unsupported value: \"{v}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
                )))
            }
        };
        Ok(ListOptions {
            label_selector,
            field_selector,
            limit,
            continue_token: self
                .get("continue")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            resource_version: self.get("resourceVersion").map(str::to_string),
            resource_version_match,
        })
    }

    pub fn delete_options(&self) -> Result<DeleteOptions, ApiError> {
        let mut opts = DeleteOptions {
            grace_period_seconds: self.int("gracePeriodSeconds")?,
            propagation_policy: self
                .get("propagationPolicy")
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            dry_run: self.dry_run()?,
            admission_webhooks: true,
            ..DeleteOptions::default()
        };
        if self.flag("orphanDependents")? && opts.propagation_policy.is_none() {
            opts.propagation_policy = Some("Orphan".into());
        }
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown() {
        assert!(Query::parse(Some("limit=500&labelSelector=a%3Db")).is_ok());
        assert_eq!(Query::parse(Some("bogus=1")).unwrap_err().code, 400);
        let q = Query::parse(Some("limit=x")).unwrap();
        assert!(q.int("limit").is_err());
    }
}
