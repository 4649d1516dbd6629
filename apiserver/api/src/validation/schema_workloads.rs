//! Go types of the workload specs (apps/v1, batch/v1, ReplicationController).

use super::schema::T::*;
use super::schema::{LABEL_SELECTOR, OBJECT_META, POD_TEMPLATE_SPEC, PVC, S, STR_MAP};

pub static RU_DEPLOYMENT: S = S {
    go: "RollingUpdateDeployment",
    fields: &[("maxUnavailable", IntStr), ("maxSurge", IntStr)],
};

pub static DEPLOYMENT_STRATEGY: S = S {
    go: "DeploymentStrategy",
    fields: &[("type", Str), ("rollingUpdate", Obj(&RU_DEPLOYMENT))],
};

pub static DEPLOYMENT_SPEC: S = S {
    go: "DeploymentSpec",
    fields: &[
        ("replicas", I32),
        ("selector", Obj(&LABEL_SELECTOR)),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
        ("strategy", Obj(&DEPLOYMENT_STRATEGY)),
        ("minReadySeconds", I32),
        ("revisionHistoryLimit", I32),
        ("paused", Bool),
        ("progressDeadlineSeconds", I32),
    ],
};

pub static REPLICA_SET_SPEC: S = S {
    go: "ReplicaSetSpec",
    fields: &[
        ("replicas", I32),
        ("minReadySeconds", I32),
        ("selector", Obj(&LABEL_SELECTOR)),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
    ],
};

pub static RU_DAEMON_SET: S = S {
    go: "RollingUpdateDaemonSet",
    fields: &[("maxUnavailable", IntStr), ("maxSurge", IntStr)],
};

pub static DS_STRATEGY: S = S {
    go: "DaemonSetUpdateStrategy",
    fields: &[("type", Str), ("rollingUpdate", Obj(&RU_DAEMON_SET))],
};

pub static DAEMON_SET_SPEC: S = S {
    go: "DaemonSetSpec",
    fields: &[
        ("selector", Obj(&LABEL_SELECTOR)),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
        ("updateStrategy", Obj(&DS_STRATEGY)),
        ("minReadySeconds", I32),
        ("revisionHistoryLimit", I32),
    ],
};

pub static RU_STS: S = S {
    go: "RollingUpdateStatefulSetStrategy",
    fields: &[("partition", I32), ("maxUnavailable", IntStr)],
};

pub static STS_STRATEGY: S = S {
    go: "StatefulSetUpdateStrategy",
    fields: &[("type", Str), ("rollingUpdate", Obj(&RU_STS))],
};

pub static STATEFUL_SET_SPEC: S = S {
    go: "StatefulSetSpec",
    fields: &[
        ("replicas", I32),
        ("selector", Obj(&LABEL_SELECTOR)),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
        ("volumeClaimTemplates", Arr(&Obj(&PVC))),
        ("serviceName", Str),
        ("podManagementPolicy", Str),
        ("updateStrategy", Obj(&STS_STRATEGY)),
        ("revisionHistoryLimit", I32),
        ("minReadySeconds", I32),
    ],
};

pub static RC_SPEC: S = S {
    go: "ReplicationControllerSpec",
    fields: &[
        ("replicas", I32),
        ("minReadySeconds", I32),
        ("selector", STR_MAP),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
    ],
};

pub static JOB_SPEC: S = S {
    go: "JobSpec",
    fields: &[
        ("parallelism", I32),
        ("completions", I32),
        ("activeDeadlineSeconds", I64),
        ("backoffLimit", I32),
        ("backoffLimitPerIndex", I32),
        ("maxFailedIndexes", I32),
        ("selector", Obj(&LABEL_SELECTOR)),
        ("manualSelector", Bool),
        ("template", Obj(&POD_TEMPLATE_SPEC)),
        ("ttlSecondsAfterFinished", I32),
        ("completionMode", Str),
        ("suspend", Bool),
        ("podReplacementPolicy", Str),
        ("managedBy", Str),
    ],
};

pub static JOB_TEMPLATE: S = S {
    go: "JobTemplateSpec",
    fields: &[("metadata", Obj(&OBJECT_META)), ("spec", Obj(&JOB_SPEC))],
};

pub static CRON_JOB_SPEC: S = S {
    go: "CronJobSpec",
    fields: &[
        ("schedule", Str),
        ("timeZone", Str),
        ("startingDeadlineSeconds", I64),
        ("concurrencyPolicy", Str),
        ("suspend", Bool),
        ("jobTemplate", Obj(&JOB_TEMPLATE)),
        ("successfulJobsHistoryLimit", I32),
        ("failedJobsHistoryLimit", I32),
    ],
};
