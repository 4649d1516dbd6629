//! Patch metadata for apps.v1, batch.v1, autoscaling.v1, autoscaling.v2, policy.v1, transcribed from the upstream Go struct tags
//! (k8s.io/api and k8s.io/apimachinery at v1.33): only fields that are
//! objects, maps or lists are listed; scalars need no metadata.

use super::{atomic_obj, list, map, obj, obj_with_strategy, TypeEntry};

#[rustfmt::skip]
pub(super) static TYPES: &[TypeEntry] = &[
    ("io.k8s.api.apps.v1.ControllerRevision", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
    ]),
    ("io.k8s.api.apps.v1.ControllerRevisionList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.apps.v1.ControllerRevision"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.apps.v1.DaemonSet", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.apps.v1.DaemonSetSpec")),
        ("status", obj("io.k8s.api.apps.v1.DaemonSetStatus")),
    ]),
    ("io.k8s.api.apps.v1.DaemonSetCondition", false, &[]),
    ("io.k8s.api.apps.v1.DaemonSetList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.apps.v1.DaemonSet"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.apps.v1.DaemonSetSpec", false, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").null()),
        ("template", obj("io.k8s.api.core.v1.PodTemplateSpec")),
        ("updateStrategy", obj("io.k8s.api.apps.v1.DaemonSetUpdateStrategy")),
    ]),
    ("io.k8s.api.apps.v1.DaemonSetStatus", false, &[
        ("conditions", list(Some("io.k8s.api.apps.v1.DaemonSetCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", false, &[
        ("rollingUpdate", obj("io.k8s.api.apps.v1.RollingUpdateDaemonSet").omitted()),
    ]),
    ("io.k8s.api.apps.v1.Deployment", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.apps.v1.DeploymentSpec")),
        ("status", obj("io.k8s.api.apps.v1.DeploymentStatus")),
    ]),
    ("io.k8s.api.apps.v1.DeploymentCondition", false, &[]),
    ("io.k8s.api.apps.v1.DeploymentList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.apps.v1.Deployment"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.apps.v1.DeploymentSpec", false, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").null()),
        ("template", obj("io.k8s.api.core.v1.PodTemplateSpec")),
        ("strategy", obj_with_strategy("io.k8s.api.apps.v1.DeploymentStrategy", "retainKeys")),
    ]),
    ("io.k8s.api.apps.v1.DeploymentStatus", false, &[
        ("conditions", list(Some("io.k8s.api.apps.v1.DeploymentCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.apps.v1.DeploymentStrategy", false, &[
        ("rollingUpdate", obj("io.k8s.api.apps.v1.RollingUpdateDeployment").omitted()),
    ]),
    ("io.k8s.api.apps.v1.ReplicaSet", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.apps.v1.ReplicaSetSpec")),
        ("status", obj("io.k8s.api.apps.v1.ReplicaSetStatus")),
    ]),
    ("io.k8s.api.apps.v1.ReplicaSetCondition", false, &[]),
    ("io.k8s.api.apps.v1.ReplicaSetList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.apps.v1.ReplicaSet"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", false, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").null()),
        ("template", obj("io.k8s.api.core.v1.PodTemplateSpec")),
    ]),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", false, &[
        ("conditions", list(Some("io.k8s.api.apps.v1.ReplicaSetCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.apps.v1.RollingUpdateDaemonSet", false, &[]),
    ("io.k8s.api.apps.v1.RollingUpdateDeployment", false, &[]),
    ("io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy", false, &[]),
    ("io.k8s.api.apps.v1.StatefulSet", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.apps.v1.StatefulSetSpec")),
        ("status", obj("io.k8s.api.apps.v1.StatefulSetStatus")),
    ]),
    ("io.k8s.api.apps.v1.StatefulSetCondition", false, &[]),
    ("io.k8s.api.apps.v1.StatefulSetList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.apps.v1.StatefulSet"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.apps.v1.StatefulSetOrdinals", false, &[]),
    ("io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", false, &[]),
    ("io.k8s.api.apps.v1.StatefulSetSpec", false, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").null()),
        ("template", obj("io.k8s.api.core.v1.PodTemplateSpec")),
        ("volumeClaimTemplates", list(Some("io.k8s.api.core.v1.PersistentVolumeClaim"), None, None, "atomic", &[])),
        ("updateStrategy", obj("io.k8s.api.apps.v1.StatefulSetUpdateStrategy")),
        ("persistentVolumeClaimRetentionPolicy", obj("io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy").omitted()),
        ("ordinals", obj("io.k8s.api.apps.v1.StatefulSetOrdinals").omitted()),
    ]),
    ("io.k8s.api.apps.v1.StatefulSetStatus", false, &[
        ("conditions", list(Some("io.k8s.api.apps.v1.StatefulSetCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", false, &[
        ("rollingUpdate", obj("io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy").omitted()),
    ]),
    ("io.k8s.api.batch.v1.CronJob", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.batch.v1.CronJobSpec")),
        ("status", obj("io.k8s.api.batch.v1.CronJobStatus")),
    ]),
    ("io.k8s.api.batch.v1.CronJobList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.batch.v1.CronJob"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.batch.v1.CronJobSpec", false, &[
        ("jobTemplate", obj("io.k8s.api.batch.v1.JobTemplateSpec")),
    ]),
    ("io.k8s.api.batch.v1.CronJobStatus", false, &[
        ("active", list(Some("io.k8s.api.core.v1.ObjectReference"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.batch.v1.Job", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.batch.v1.JobSpec")),
        ("status", obj("io.k8s.api.batch.v1.JobStatus")),
    ]),
    ("io.k8s.api.batch.v1.JobCondition", false, &[]),
    ("io.k8s.api.batch.v1.JobList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.batch.v1.Job"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.batch.v1.JobSpec", false, &[
        ("podFailurePolicy", obj("io.k8s.api.batch.v1.PodFailurePolicy").omitted()),
        ("successPolicy", obj("io.k8s.api.batch.v1.SuccessPolicy").omitted()),
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("template", obj("io.k8s.api.core.v1.PodTemplateSpec")),
    ]),
    ("io.k8s.api.batch.v1.JobStatus", false, &[
        ("conditions", list(Some("io.k8s.api.batch.v1.JobCondition"), Some("merge"), Some("type"), "atomic", &[])),
        ("uncountedTerminatedPods", obj("io.k8s.api.batch.v1.UncountedTerminatedPods").omitted()),
    ]),
    ("io.k8s.api.batch.v1.JobTemplateSpec", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.batch.v1.JobSpec")),
    ]),
    ("io.k8s.api.batch.v1.PodFailurePolicy", false, &[
        ("rules", list(Some("io.k8s.api.batch.v1.PodFailurePolicyRule"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", false, &[
        ("values", list(None, None, None, "set", &[]).null()),
    ]),
    ("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern", false, &[]),
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", false, &[
        ("onExitCodes", obj("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement").omitted()),
        ("onPodConditions", list(Some("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.batch.v1.SuccessPolicy", false, &[
        ("rules", list(Some("io.k8s.api.batch.v1.SuccessPolicyRule"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.batch.v1.SuccessPolicyRule", false, &[]),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", false, &[
        ("succeeded", list(None, None, None, "set", &[])),
        ("failed", list(None, None, None, "set", &[])),
    ]),
    ("io.k8s.api.autoscaling.v1.CrossVersionObjectReference", true, &[]),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec")),
        ("status", obj("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus")),
    ]),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec", false, &[
        ("scaleTargetRef", atomic_obj("io.k8s.api.autoscaling.v1.CrossVersionObjectReference")),
    ]),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus", false, &[]),
    ("io.k8s.api.autoscaling.v1.Scale", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.autoscaling.v1.ScaleSpec")),
        ("status", obj("io.k8s.api.autoscaling.v1.ScaleStatus")),
    ]),
    ("io.k8s.api.autoscaling.v1.ScaleSpec", false, &[]),
    ("io.k8s.api.autoscaling.v1.ScaleStatus", false, &[]),
    ("io.k8s.api.autoscaling.v2.ContainerResourceMetricSource", false, &[
        ("target", obj("io.k8s.api.autoscaling.v2.MetricTarget")),
    ]),
    ("io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus", false, &[
        ("current", obj("io.k8s.api.autoscaling.v2.MetricValueStatus")),
    ]),
    ("io.k8s.api.autoscaling.v2.CrossVersionObjectReference", false, &[]),
    ("io.k8s.api.autoscaling.v2.ExternalMetricSource", false, &[
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
        ("target", obj("io.k8s.api.autoscaling.v2.MetricTarget")),
    ]),
    ("io.k8s.api.autoscaling.v2.ExternalMetricStatus", false, &[
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
        ("current", obj("io.k8s.api.autoscaling.v2.MetricValueStatus")),
    ]),
    ("io.k8s.api.autoscaling.v2.HPAScalingPolicy", false, &[]),
    ("io.k8s.api.autoscaling.v2.HPAScalingRules", false, &[
        ("policies", list(Some("io.k8s.api.autoscaling.v2.HPAScalingPolicy"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec")),
        ("status", obj("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus")),
    ]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior", false, &[
        ("scaleUp", obj("io.k8s.api.autoscaling.v2.HPAScalingRules").omitted()),
        ("scaleDown", obj("io.k8s.api.autoscaling.v2.HPAScalingRules").omitted()),
    ]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition", false, &[]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", false, &[
        ("scaleTargetRef", obj("io.k8s.api.autoscaling.v2.CrossVersionObjectReference")),
        ("metrics", list(Some("io.k8s.api.autoscaling.v2.MetricSpec"), None, None, "atomic", &[])),
        ("behavior", obj("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior").omitted()),
    ]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", false, &[
        ("currentMetrics", list(Some("io.k8s.api.autoscaling.v2.MetricStatus"), None, None, "atomic", &[]).null()),
        ("conditions", list(Some("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.autoscaling.v2.MetricIdentifier", false, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
    ]),
    ("io.k8s.api.autoscaling.v2.MetricSpec", false, &[
        ("object", obj("io.k8s.api.autoscaling.v2.ObjectMetricSource").omitted()),
        ("pods", obj("io.k8s.api.autoscaling.v2.PodsMetricSource").omitted()),
        ("resource", obj("io.k8s.api.autoscaling.v2.ResourceMetricSource").omitted()),
        ("containerResource", obj("io.k8s.api.autoscaling.v2.ContainerResourceMetricSource").omitted()),
        ("external", obj("io.k8s.api.autoscaling.v2.ExternalMetricSource").omitted()),
    ]),
    ("io.k8s.api.autoscaling.v2.MetricStatus", false, &[
        ("object", obj("io.k8s.api.autoscaling.v2.ObjectMetricStatus").omitted()),
        ("pods", obj("io.k8s.api.autoscaling.v2.PodsMetricStatus").omitted()),
        ("resource", obj("io.k8s.api.autoscaling.v2.ResourceMetricStatus").omitted()),
        ("containerResource", obj("io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus").omitted()),
        ("external", obj("io.k8s.api.autoscaling.v2.ExternalMetricStatus").omitted()),
    ]),
    ("io.k8s.api.autoscaling.v2.MetricTarget", false, &[]),
    ("io.k8s.api.autoscaling.v2.MetricValueStatus", false, &[]),
    ("io.k8s.api.autoscaling.v2.ObjectMetricSource", false, &[
        ("describedObject", obj("io.k8s.api.autoscaling.v2.CrossVersionObjectReference")),
        ("target", obj("io.k8s.api.autoscaling.v2.MetricTarget")),
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
    ]),
    ("io.k8s.api.autoscaling.v2.ObjectMetricStatus", false, &[
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
        ("current", obj("io.k8s.api.autoscaling.v2.MetricValueStatus")),
        ("describedObject", obj("io.k8s.api.autoscaling.v2.CrossVersionObjectReference")),
    ]),
    ("io.k8s.api.autoscaling.v2.PodsMetricSource", false, &[
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
        ("target", obj("io.k8s.api.autoscaling.v2.MetricTarget")),
    ]),
    ("io.k8s.api.autoscaling.v2.PodsMetricStatus", false, &[
        ("metric", obj("io.k8s.api.autoscaling.v2.MetricIdentifier")),
        ("current", obj("io.k8s.api.autoscaling.v2.MetricValueStatus")),
    ]),
    ("io.k8s.api.autoscaling.v2.ResourceMetricSource", false, &[
        ("target", obj("io.k8s.api.autoscaling.v2.MetricTarget")),
    ]),
    ("io.k8s.api.autoscaling.v2.ResourceMetricStatus", false, &[
        ("current", obj("io.k8s.api.autoscaling.v2.MetricValueStatus")),
    ]),
    ("io.k8s.api.policy.v1.Eviction", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("deleteOptions", obj("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions").omitted()),
    ]),
    ("io.k8s.api.policy.v1.PodDisruptionBudget", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.policy.v1.PodDisruptionBudgetSpec")),
        ("status", obj("io.k8s.api.policy.v1.PodDisruptionBudgetStatus")),
    ]),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.policy.v1.PodDisruptionBudget"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", false, &[
        ("selector", obj_with_strategy("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "replace").omitted()),
    ]),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", false, &[
        ("disruptedPods", map(None)),
        ("conditions", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
];
