//! Kinds that run pods or keep them running: apps, batch, policy and autoscaling.

use serde_json::json;

use crate::suites::crud::Kind;

use super::{conditions, template, IMAGE, NO_SCHEDULER};

kind!(
    DEPLOYMENTS,
    "apps",
    "v1",
    "deployments",
    "Deployment",
    true,
    |_| json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    REPLICASETS,
    "apps",
    "v1",
    "replicasets",
    "ReplicaSet",
    true,
    |_| json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    STATEFULSETS,
    "apps",
    "v1",
    "statefulsets",
    "StatefulSet",
    true,
    |_| json!({"spec": {"replicas": 1, "serviceName": "rkc", "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    DAEMONSETS,
    "apps",
    "v1",
    "daemonsets",
    "DaemonSet",
    true,
    |_| json!({"spec": {"selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    CONTROLLERREVISIONS,
    "apps",
    "v1",
    "controllerrevisions",
    "ControllerRevision",
    true,
    |_| json!({"revision": 1, "data": {"spec": {"template": {"metadata": {"labels": {"app": "rkc"}}}}}})
);
kind!(
    JOBS,
    "batch",
    "v1",
    "jobs",
    "Job",
    true,
    |_| json!({"spec": {"suspend": true, "template": {"spec": {"restartPolicy": "Never", "schedulerName": NO_SCHEDULER,
                "containers": [{"name": "c", "image": IMAGE}]}}}})
);
kind!(
    CRONJOBS,
    "batch",
    "v1",
    "cronjobs",
    "CronJob",
    true,
    |_| json!({"spec": {"schedule": "*/1 * * * *", "suspend": true, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "schedulerName": NO_SCHEDULER, "containers": [{"name": "c", "image": IMAGE}]}}}}}}),
    Some(|| json!({"lastScheduleTime": "2025-01-01T00:00:00Z"}))
);
kind!(
    PODDISRUPTIONBUDGETS,
    "policy",
    "v1",
    "poddisruptionbudgets",
    "PodDisruptionBudget",
    true,
    |_| json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "rkc"}}}}),
    Some(conditions)
);
kind!(
    HORIZONTALPODAUTOSCALERS,
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    true,
    |_| json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rkc-none"},
                        "minReplicas": 1, "maxReplicas": 3,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
    Some(
        || json!({"currentReplicas": 1, "desiredReplicas": 2, "currentMetrics": null,
                   "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale",
                                   "message": "set by rkube conformance", "lastTransitionTime": "2025-01-01T00:00:00Z"}]})
    )
);

// The same objects through autoscaling/v1 (upstream stores them as v2 and converts).
kind!(
    HORIZONTALPODAUTOSCALERS_V1,
    "autoscaling",
    "v1",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    true,
    |_| json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rkc-none"},
                        "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}),
    Some(|| json!({"currentReplicas": 1, "desiredReplicas": 2}))
);
