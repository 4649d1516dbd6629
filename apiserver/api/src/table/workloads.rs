//! Workload printers: replication controllers, replica sets, deployments, daemon sets,
//! stateful sets, jobs, cron jobs, controller revisions, pod templates, PDBs.

use serde_json::{json, Value};

use super::docs::*;
use super::util::{
    age, arr, at, containers, format_label_selector, format_labels, human_between, int,
    int_or_string, name, obj, opt_int, opt_s, present, s, selector_string, since, time_at, Time,
};
use super::{col, name_col, wide, Column, AGE};

const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

fn template_spec(v: &Value) -> Option<&Value> {
    at(v, &["spec", "template", "spec"])
}

pub const RC_COLUMNS: &[Column] = &[
    name_col(),
    col("Desired", "integer", RC_SPEC_REPLICAS),
    col("Current", "integer", RC_STATUS_REPLICAS),
    col("Ready", "integer", RC_READY),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", RC_SELECTOR),
];

pub fn rc_cells(v: &Value, now: Time) -> Vec<Value> {
    let (names, images) = containers(template_spec(v));
    vec![
        json!(name(v)),
        json!(int(v, &["spec", "replicas"])),
        json!(int(v, &["status", "replicas"])),
        json!(int(v, &["status", "readyReplicas"])),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(format_labels(obj(v, &["spec", "selector"]))),
    ]
}

pub const RS_COLUMNS: &[Column] = &[
    name_col(),
    col("Desired", "integer", RS_SPEC_REPLICAS),
    col("Current", "integer", RS_STATUS_REPLICAS),
    col("Ready", "integer", RS_READY),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", RS_SELECTOR),
];

pub fn rs_cells(v: &Value, now: Time) -> Vec<Value> {
    let (names, images) = containers(template_spec(v));
    vec![
        json!(name(v)),
        json!(int(v, &["spec", "replicas"])),
        json!(int(v, &["status", "replicas"])),
        json!(int(v, &["status", "readyReplicas"])),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(at(v, &["spec", "selector"]))),
    ]
}

pub const DEPLOY_COLUMNS: &[Column] = &[
    name_col(),
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", DEPLOY_UPDATED),
    col("Available", "string", DEPLOY_AVAILABLE),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", DEPLOY_SELECTOR),
];

pub fn deploy_cells(v: &Value, now: Time) -> Vec<Value> {
    let (names, images) = containers(template_spec(v));
    let selector =
        selector_string(at(v, &["spec", "selector"])).unwrap_or_else(|_| "<invalid>".to_string());
    vec![
        json!(name(v)),
        json!(format!(
            "{}/{}",
            int(v, &["status", "readyReplicas"]),
            int(v, &["spec", "replicas"])
        )),
        json!(int(v, &["status", "updatedReplicas"])),
        json!(int(v, &["status", "availableReplicas"])),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

pub const DS_COLUMNS: &[Column] = &[
    name_col(),
    col("Desired", "integer", DS_DESIRED),
    col("Current", "integer", DS_CURRENT),
    col("Ready", "integer", DS_READY),
    col("Up-to-date", "integer", DS_UPDATED),
    col("Available", "integer", DS_AVAILABLE),
    col("Node Selector", "string", POD_NODE_SELECTOR),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", DS_SELECTOR),
];

pub fn ds_cells(v: &Value, now: Time) -> Vec<Value> {
    let (names, images) = containers(template_spec(v));
    vec![
        json!(name(v)),
        json!(int(v, &["status", "desiredNumberScheduled"])),
        json!(int(v, &["status", "currentNumberScheduled"])),
        json!(int(v, &["status", "numberReady"])),
        json!(int(v, &["status", "updatedNumberScheduled"])),
        json!(int(v, &["status", "numberAvailable"])),
        json!(format_labels(obj(
            v,
            &["spec", "template", "spec", "nodeSelector"]
        ))),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(at(v, &["spec", "selector"]))),
    ]
}

pub const STS_COLUMNS: &[Column] = &[
    name_col(),
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub fn sts_cells(v: &Value, now: Time) -> Vec<Value> {
    let (names, images) = containers(template_spec(v));
    vec![
        json!(name(v)),
        json!(format!(
            "{}/{}",
            int(v, &["status", "readyReplicas"]),
            int(v, &["spec", "replicas"])
        )),
        json!(age(v, now)),
        json!(names),
        json!(images),
    ]
}

pub const JOB_COLUMNS: &[Column] = &[
    name_col(),
    col("Status", "string", "Status of the job."),
    col("Completions", "string", JOB_SUCCEEDED),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", JOB_SELECTOR),
];

fn has_job_condition(v: &Value, typ: &str) -> bool {
    arr(v, &["status", "conditions"])
        .iter()
        .find(|c| s(c, &["type"]) == typ)
        .is_some_and(|c| s(c, &["status"]) == "True")
}

pub fn job_cells(v: &Value, now: Time) -> Vec<Value> {
    let succeeded = int(v, &["status", "succeeded"]);
    let completions = match opt_int(v, &["spec", "completions"]) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = opt_int(v, &["spec", "parallelism"]).unwrap_or(0);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let duration = match (
        time_at(v, &["status", "startTime"]),
        time_at(v, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_between(start, now),
        (Some(start), Some(end)) => human_between(start, end),
    };
    let status = if has_job_condition(v, "Complete") {
        "Complete"
    } else if has_job_condition(v, "Failed") {
        "Failed"
    } else if present(v, &["metadata", "deletionTimestamp"]) {
        "Terminating"
    } else if has_job_condition(v, "Suspended") {
        "Suspended"
    } else if has_job_condition(v, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers(template_spec(v));
    vec![
        json!(name(v)),
        json!(status),
        json!(completions),
        json!(duration),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(at(v, &["spec", "selector"]))),
    ]
}

pub const CRONJOB_COLUMNS: &[Column] = &[
    name_col(),
    col("Schedule", "string", CJ_SCHEDULE),
    col("Timezone", "string", CJ_TIMEZONE),
    col("Suspend", "boolean", CJ_SUSPEND),
    col("Active", "integer", CJ_ACTIVE),
    col("Last Schedule", "string", CJ_LAST_SCHEDULE),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", JOB_SELECTOR),
];

pub fn cronjob_cells(v: &Value, now: Time) -> Vec<Value> {
    let last = if present(v, &["status", "lastScheduleTime"]) {
        since(time_at(v, &["status", "lastScheduleTime"]), now)
    } else {
        "<none>".to_string()
    };
    let suspend = match at(v, &["spec", "suspend"]).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let (names, images) = containers(at(v, &["spec", "jobTemplate", "spec", "template", "spec"]));
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "schedule"])),
        json!(opt_s(v, &["spec", "timeZone"]).unwrap_or("<none>")),
        json!(suspend),
        json!(arr(v, &["status", "active"]).len() as i64),
        json!(last),
        json!(age(v, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(at(
            v,
            &["spec", "jobTemplate", "spec", "selector"]
        ))),
    ]
}

pub const REVISION_COLUMNS: &[Column] = &[
    name_col(),
    col("Controller", "string", "Controller of the object"),
    col("Revision", "string", CR_REVISION),
    AGE,
];

pub fn revision_cells(v: &Value, now: Time) -> Vec<Value> {
    let controller = arr(v, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| at(r, &["controller"]).and_then(Value::as_bool) == Some(true))
        .map_or_else(
            || "<none>".to_string(),
            |r| {
                let api_version = s(r, &["apiVersion"]);
                let group = match api_version.split('/').collect::<Vec<_>>().as_slice() {
                    [g, _] => *g,
                    _ => "",
                };
                let kind = s(r, &["kind"]);
                let n = s(r, &["name"]);
                if group.is_empty() && kind.is_empty() {
                    n.to_string()
                } else if group.is_empty() {
                    format!("{}/{n}", kind.to_lowercase())
                } else {
                    format!("{}.{}/{n}", kind.to_lowercase(), group.to_lowercase())
                }
            },
        );
    vec![
        json!(name(v)),
        json!(controller),
        json!(int(v, &["revision"])),
        json!(age(v, now)),
    ]
}

pub const PODTEMPLATE_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

pub fn podtemplate_cells(v: &Value, _now: Time) -> Vec<Value> {
    let (names, images) = containers(at(v, &["template", "spec"]));
    vec![
        json!(name(v)),
        json!(names),
        json!(images),
        json!(format_labels(obj(v, &["template", "metadata", "labels"]))),
    ]
}

pub const PDB_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub fn pdb_cells(v: &Value, now: Time) -> Vec<Value> {
    let field = |f: &str| {
        if present(v, &["spec", f]) {
            int_or_string(at(v, &["spec", f]))
        } else {
            "N/A".to_string()
        }
    };
    vec![
        json!(name(v)),
        json!(field("minAvailable")),
        json!(field("maxUnavailable")),
        json!(int(v, &["status", "disruptionsAllowed"])),
        json!(age(v, now)),
    ]
}
