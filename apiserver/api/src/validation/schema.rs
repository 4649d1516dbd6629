//! The Go types of the served kinds' commonly set fields, for decode-time type errors.
//! Fields not listed are not checked.

use crate::resources::Resource;

/// A field type.
pub enum T {
    Str,
    Bool,
    I32,
    I64,
    /// `intstr.IntOrString`.
    IntStr,
    /// `resource.Quantity`.
    Quantity,
    /// `[]byte` (base64 in JSON).
    Bytes,
    /// `metav1.Time`.
    Time,
    Arr(&'static T),
    Map(&'static T),
    Obj(&'static S),
}

/// A Go struct: its name and JSON fields.
pub struct S {
    pub go: &'static str,
    pub fields: &'static [(&'static str, T)],
}

impl T {
    /// `reflect.Type.String()` of the field's (dereferenced) type.
    pub fn go_name(&self) -> String {
        match self {
            T::Str => "string".into(),
            T::Bool => "bool".into(),
            T::I32 => "int32".into(),
            T::I64 => "int64".into(),
            T::IntStr => "intstr.IntOrString".into(),
            T::Quantity => "resource.Quantity".into(),
            T::Bytes => "[]uint8".into(),
            T::Time => "v1.Time".into(),
            T::Arr(e) => format!("[]{}", e.go_name()),
            T::Map(e) => format!("map[string]{}", e.go_name()),
            T::Obj(s) => format!("v1.{}", s.go),
        }
    }
}

use T::*;

use super::schema_workloads::{
    CRON_JOB_SPEC, DAEMON_SET_SPEC, DEPLOYMENT_SPEC, JOB_SPEC, RC_SPEC, REPLICA_SET_SPEC,
    STATEFUL_SET_SPEC,
};

pub const STRS: T = Arr(&Str);
pub const STR_MAP: T = Map(&Str);
const QTY_MAP: T = Map(&Quantity);

static OWNER_REF: S = S {
    go: "OwnerReference",
    fields: &[
        ("apiVersion", Str),
        ("kind", Str),
        ("name", Str),
        ("uid", Str),
        ("controller", Bool),
        ("blockOwnerDeletion", Bool),
    ],
};

pub static OBJECT_META: S = S {
    go: "ObjectMeta",
    fields: &[
        ("name", Str),
        ("generateName", Str),
        ("namespace", Str),
        ("uid", Str),
        ("resourceVersion", Str),
        ("generation", I64),
        ("creationTimestamp", Time),
        ("deletionTimestamp", Time),
        ("deletionGracePeriodSeconds", I64),
        ("labels", STR_MAP),
        ("annotations", STR_MAP),
        ("ownerReferences", Arr(&Obj(&OWNER_REF))),
        ("finalizers", STRS),
    ],
};

static SELECTOR_REQ: S = S {
    go: "LabelSelectorRequirement",
    fields: &[("key", Str), ("operator", Str), ("values", STRS)],
};

pub static LABEL_SELECTOR: S = S {
    go: "LabelSelector",
    fields: &[
        ("matchLabels", STR_MAP),
        ("matchExpressions", Arr(&Obj(&SELECTOR_REQ))),
    ],
};

static CONTAINER_PORT: S = S {
    go: "ContainerPort",
    fields: &[
        ("name", Str),
        ("hostPort", I32),
        ("containerPort", I32),
        ("protocol", Str),
        ("hostIP", Str),
    ],
};

static ENV_VAR: S = S {
    go: "EnvVar",
    fields: &[("name", Str), ("value", Str)],
};

static RESOURCE_REQS: S = S {
    go: "ResourceRequirements",
    fields: &[("limits", QTY_MAP), ("requests", QTY_MAP)],
};

static VOLUME_MOUNT: S = S {
    go: "VolumeMount",
    fields: &[
        ("name", Str),
        ("readOnly", Bool),
        ("mountPath", Str),
        ("subPath", Str),
        ("mountPropagation", Str),
        ("subPathExpr", Str),
    ],
};

static HTTP_GET: S = S {
    go: "HTTPGetAction",
    fields: &[
        ("path", Str),
        ("port", IntStr),
        ("host", Str),
        ("scheme", Str),
    ],
};

static TCP_SOCKET: S = S {
    go: "TCPSocketAction",
    fields: &[("port", IntStr), ("host", Str)],
};

static EXEC: S = S {
    go: "ExecAction",
    fields: &[("command", STRS)],
};

static PROBE: S = S {
    go: "Probe",
    fields: &[
        ("exec", Obj(&EXEC)),
        ("httpGet", Obj(&HTTP_GET)),
        ("tcpSocket", Obj(&TCP_SOCKET)),
        ("initialDelaySeconds", I32),
        ("timeoutSeconds", I32),
        ("periodSeconds", I32),
        ("successThreshold", I32),
        ("failureThreshold", I32),
        ("terminationGracePeriodSeconds", I64),
    ],
};

static SECURITY_CONTEXT: S = S {
    go: "SecurityContext",
    fields: &[
        ("privileged", Bool),
        ("runAsUser", I64),
        ("runAsGroup", I64),
        ("runAsNonRoot", Bool),
        ("readOnlyRootFilesystem", Bool),
        ("allowPrivilegeEscalation", Bool),
        ("procMount", Str),
    ],
};

static CONTAINER: S = S {
    go: "Container",
    fields: &[
        ("name", Str),
        ("image", Str),
        ("command", STRS),
        ("args", STRS),
        ("workingDir", Str),
        ("ports", Arr(&Obj(&CONTAINER_PORT))),
        ("env", Arr(&Obj(&ENV_VAR))),
        ("resources", Obj(&RESOURCE_REQS)),
        ("volumeMounts", Arr(&Obj(&VOLUME_MOUNT))),
        ("livenessProbe", Obj(&PROBE)),
        ("readinessProbe", Obj(&PROBE)),
        ("startupProbe", Obj(&PROBE)),
        ("terminationMessagePath", Str),
        ("terminationMessagePolicy", Str),
        ("imagePullPolicy", Str),
        ("securityContext", Obj(&SECURITY_CONTEXT)),
        ("stdin", Bool),
        ("stdinOnce", Bool),
        ("tty", Bool),
        ("restartPolicy", Str),
    ],
};

static POD_SECURITY_CONTEXT: S = S {
    go: "PodSecurityContext",
    fields: &[
        ("runAsUser", I64),
        ("runAsGroup", I64),
        ("runAsNonRoot", Bool),
        ("supplementalGroups", Arr(&I64)),
        ("fsGroup", I64),
        ("fsGroupChangePolicy", Str),
    ],
};

static LOCAL_REF: S = S {
    go: "LocalObjectReference",
    fields: &[("name", Str)],
};

static TOLERATION: S = S {
    go: "Toleration",
    fields: &[
        ("key", Str),
        ("operator", Str),
        ("value", Str),
        ("effect", Str),
        ("tolerationSeconds", I64),
    ],
};

static HOST_ALIAS: S = S {
    go: "HostAlias",
    fields: &[("ip", Str), ("hostnames", STRS)],
};

static CM_VOLUME: S = S {
    go: "ConfigMapVolumeSource",
    fields: &[("name", Str), ("defaultMode", I32), ("optional", Bool)],
};

static SECRET_VOLUME: S = S {
    go: "SecretVolumeSource",
    fields: &[
        ("secretName", Str),
        ("defaultMode", I32),
        ("optional", Bool),
    ],
};

static EMPTY_DIR: S = S {
    go: "EmptyDirVolumeSource",
    fields: &[("medium", Str), ("sizeLimit", Quantity)],
};

static HOST_PATH: S = S {
    go: "HostPathVolumeSource",
    fields: &[("path", Str), ("type", Str)],
};

static PVC_SOURCE: S = S {
    go: "PersistentVolumeClaimVolumeSource",
    fields: &[("claimName", Str), ("readOnly", Bool)],
};

static VOLUME: S = S {
    go: "Volume",
    fields: &[
        ("name", Str),
        ("configMap", Obj(&CM_VOLUME)),
        ("secret", Obj(&SECRET_VOLUME)),
        ("emptyDir", Obj(&EMPTY_DIR)),
        ("hostPath", Obj(&HOST_PATH)),
        ("persistentVolumeClaim", Obj(&PVC_SOURCE)),
    ],
};

pub static POD_SPEC: S = S {
    go: "PodSpec",
    fields: &[
        ("volumes", Arr(&Obj(&VOLUME))),
        ("initContainers", Arr(&Obj(&CONTAINER))),
        ("containers", Arr(&Obj(&CONTAINER))),
        ("restartPolicy", Str),
        ("terminationGracePeriodSeconds", I64),
        ("activeDeadlineSeconds", I64),
        ("dnsPolicy", Str),
        ("nodeSelector", STR_MAP),
        ("serviceAccountName", Str),
        ("serviceAccount", Str),
        ("automountServiceAccountToken", Bool),
        ("nodeName", Str),
        ("hostNetwork", Bool),
        ("hostPID", Bool),
        ("hostIPC", Bool),
        ("shareProcessNamespace", Bool),
        ("securityContext", Obj(&POD_SECURITY_CONTEXT)),
        ("imagePullSecrets", Arr(&Obj(&LOCAL_REF))),
        ("hostname", Str),
        ("subdomain", Str),
        ("schedulerName", Str),
        ("tolerations", Arr(&Obj(&TOLERATION))),
        ("hostAliases", Arr(&Obj(&HOST_ALIAS))),
        ("priorityClassName", Str),
        ("priority", I32),
        ("runtimeClassName", Str),
        ("enableServiceLinks", Bool),
        ("preemptionPolicy", Str),
        ("overhead", QTY_MAP),
        ("setHostnameAsFQDN", Bool),
        ("hostUsers", Bool),
    ],
};

pub static POD_TEMPLATE_SPEC: S = S {
    go: "PodTemplateSpec",
    fields: &[("metadata", Obj(&OBJECT_META)), ("spec", Obj(&POD_SPEC))],
};

static VOLUME_RESOURCES: S = S {
    go: "VolumeResourceRequirements",
    fields: &[("limits", QTY_MAP), ("requests", QTY_MAP)],
};

static PVC_SPEC: S = S {
    go: "PersistentVolumeClaimSpec",
    fields: &[
        ("accessModes", STRS),
        ("selector", Obj(&LABEL_SELECTOR)),
        ("resources", Obj(&VOLUME_RESOURCES)),
        ("volumeName", Str),
        ("storageClassName", Str),
        ("volumeMode", Str),
    ],
};

pub static PVC: S = S {
    go: "PersistentVolumeClaim",
    fields: &[("metadata", Obj(&OBJECT_META)), ("spec", Obj(&PVC_SPEC))],
};

static SERVICE_PORT: S = S {
    go: "ServicePort",
    fields: &[
        ("name", Str),
        ("protocol", Str),
        ("appProtocol", Str),
        ("port", I32),
        ("targetPort", IntStr),
        ("nodePort", I32),
    ],
};

static SERVICE_SPEC: S = S {
    go: "ServiceSpec",
    fields: &[
        ("ports", Arr(&Obj(&SERVICE_PORT))),
        ("selector", STR_MAP),
        ("clusterIP", Str),
        ("clusterIPs", STRS),
        ("type", Str),
        ("externalIPs", STRS),
        ("sessionAffinity", Str),
        ("loadBalancerIP", Str),
        ("loadBalancerSourceRanges", STRS),
        ("externalName", Str),
        ("externalTrafficPolicy", Str),
        ("healthCheckNodePort", I32),
        ("publishNotReadyAddresses", Bool),
        ("ipFamilies", STRS),
        ("ipFamilyPolicy", Str),
        ("allocateLoadBalancerNodePorts", Bool),
        ("loadBalancerClass", Str),
        ("internalTrafficPolicy", Str),
        ("trafficDistribution", Str),
    ],
};

static NAMESPACE_SPEC: S = S {
    go: "NamespaceSpec",
    fields: &[("finalizers", STRS)],
};

static NODE_SPEC: S = S {
    go: "NodeSpec",
    fields: &[
        ("podCIDR", Str),
        ("podCIDRs", STRS),
        ("providerID", Str),
        ("unschedulable", Bool),
    ],
};

macro_rules! top {
    ($name:ident, $go:expr, [$($f:expr),* $(,)?]) => {
        static $name: S = S {
            go: $go,
            fields: &[
                ("apiVersion", Str),
                ("kind", Str),
                ("metadata", Obj(&OBJECT_META)),
                $($f),*
            ],
        };
    };
}

top!(POD, "Pod", [("spec", Obj(&POD_SPEC))]);
top!(
    POD_TEMPLATE,
    "PodTemplate",
    [("template", Obj(&POD_TEMPLATE_SPEC))]
);
top!(DEPLOYMENT, "Deployment", [("spec", Obj(&DEPLOYMENT_SPEC))]);
top!(
    REPLICA_SET,
    "ReplicaSet",
    [("spec", Obj(&REPLICA_SET_SPEC))]
);
top!(DAEMON_SET, "DaemonSet", [("spec", Obj(&DAEMON_SET_SPEC))]);
top!(
    STATEFUL_SET,
    "StatefulSet",
    [("spec", Obj(&STATEFUL_SET_SPEC))]
);
top!(RC, "ReplicationController", [("spec", Obj(&RC_SPEC))]);
top!(JOB, "Job", [("spec", Obj(&JOB_SPEC))]);
top!(CRON_JOB, "CronJob", [("spec", Obj(&CRON_JOB_SPEC))]);
top!(SERVICE, "Service", [("spec", Obj(&SERVICE_SPEC))]);
top!(
    CONFIG_MAP,
    "ConfigMap",
    [
        ("data", STR_MAP),
        ("binaryData", Map(&Bytes)),
        ("immutable", Bool),
    ]
);
top!(
    SECRET,
    "Secret",
    [
        ("data", Map(&Bytes)),
        ("stringData", STR_MAP),
        ("type", Str),
        ("immutable", Bool),
    ]
);
top!(NAMESPACE, "Namespace", [("spec", Obj(&NAMESPACE_SPEC))]);
top!(PVC_TOP, "PersistentVolumeClaim", [("spec", Obj(&PVC_SPEC))]);
top!(NODE, "Node", [("spec", Obj(&NODE_SPEC))]);
top!(
    SERVICE_ACCOUNT,
    "ServiceAccount",
    [
        ("imagePullSecrets", Arr(&Obj(&LOCAL_REF))),
        ("automountServiceAccountToken", Bool),
    ]
);

/// The top-level struct of a kind; other kinds are checked for their metadata only.
pub fn kind_schema(resource: &Resource) -> Option<&'static S> {
    Some(match (resource.group, resource.kind) {
        ("", "Pod") => &POD,
        ("", "PodTemplate") => &POD_TEMPLATE,
        ("apps", "Deployment") => &DEPLOYMENT,
        ("apps", "ReplicaSet") => &REPLICA_SET,
        ("apps", "DaemonSet") => &DAEMON_SET,
        ("apps", "StatefulSet") => &STATEFUL_SET,
        ("", "ReplicationController") => &RC,
        ("batch", "Job") => &JOB,
        ("batch", "CronJob") => &CRON_JOB,
        ("", "Service") => &SERVICE,
        ("", "ConfigMap") => &CONFIG_MAP,
        ("", "Secret") => &SECRET,
        ("", "Namespace") => &NAMESPACE,
        ("", "PersistentVolumeClaim") => &PVC_TOP,
        ("", "Node") => &NODE,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT,
        _ => return generic(resource),
    })
}

macro_rules! generic_tops {
    ($($name:ident = $kind:expr),* $(,)?) => {
        $( top!($name, $kind, []); )*
        fn generic(resource: &Resource) -> Option<&'static S> {
            match resource.kind {
                $( $kind => Some(&$name), )*
                _ => None,
            }
        }
    };
}

generic_tops!(
    G_ENDPOINTS = "Endpoints",
    G_EVENT = "Event",
    G_LIMIT_RANGE = "LimitRange",
    G_PV = "PersistentVolume",
    G_QUOTA = "ResourceQuota",
    G_CR = "ControllerRevision",
    G_LEASE = "Lease",
    G_SLICE = "EndpointSlice",
    G_INGRESS_CLASS = "IngressClass",
    G_INGRESS = "Ingress",
    G_NETPOL = "NetworkPolicy",
    G_PDB = "PodDisruptionBudget",
    G_CRB = "ClusterRoleBinding",
    G_CR_ROLE = "ClusterRole",
    G_RB = "RoleBinding",
    G_ROLE = "Role",
    G_PRIORITY_CLASS = "PriorityClass",
    G_RUNTIME_CLASS = "RuntimeClass",
    G_STORAGE_CLASS = "StorageClass",
    G_CSI_DRIVER = "CSIDriver",
    G_CSI_NODE = "CSINode",
    G_CSI_CAPACITY = "CSIStorageCapacity",
    G_VOLUME_ATTACHMENT = "VolumeAttachment",
    G_FLOW_SCHEMA = "FlowSchema",
    G_PRIORITY_LEVEL = "PriorityLevelConfiguration",
    G_VAP = "ValidatingAdmissionPolicy",
    G_VAPB = "ValidatingAdmissionPolicyBinding",
    G_CSR = "CertificateSigningRequest",
    G_HPA = "HorizontalPodAutoscaler",
    G_VWC = "ValidatingWebhookConfiguration",
    G_MWC = "MutatingWebhookConfiguration",
    G_APISERVICE = "APIService",
);
