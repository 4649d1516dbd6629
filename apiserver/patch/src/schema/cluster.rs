//! Patch metadata for admissionregistration.v1, authentication.v1, authorization.v1, certificates.v1, coordination.v1, discovery.v1, events.v1, flowcontrol.v1, networking.v1, node.v1, rbac.v1, scheduling.v1, storage.v1, transcribed from the upstream Go struct tags
//! (k8s.io/api and k8s.io/apimachinery at v1.33): only fields that are
//! objects, maps or lists are listed; scalars need no metadata.

use super::{atomic_map, atomic_obj, list, map, obj, TypeEntry};

#[rustfmt::skip]
pub(super) static TYPES: &[TypeEntry] = &[
    ("io.k8s.api.admissionregistration.v1.AuditAnnotation", false, &[]),
    ("io.k8s.api.admissionregistration.v1.ExpressionWarning", false, &[]),
    ("io.k8s.api.admissionregistration.v1.MatchCondition", false, &[]),
    ("io.k8s.api.admissionregistration.v1.MatchResources", true, &[
        ("namespaceSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("objectSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("resourceRules", list(Some("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations"), None, None, "atomic", &[])),
        ("excludeResourceRules", list(Some("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhook", false, &[
        ("clientConfig", obj("io.k8s.api.admissionregistration.v1.WebhookClientConfig")),
        ("rules", list(Some("io.k8s.api.admissionregistration.v1.RuleWithOperations"), None, None, "atomic", &[])),
        ("namespaceSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("objectSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("admissionReviewVersions", list(None, None, None, "atomic", &[]).null()),
        ("matchConditions", list(Some("io.k8s.api.admissionregistration.v1.MatchCondition"), Some("merge"), Some("name"), "map", &["name"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("webhooks", list(Some("io.k8s.api.admissionregistration.v1.MutatingWebhook"), Some("merge"), Some("name"), "map", &["name"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhookConfigurationList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", true, &[
        ("resourceNames", list(None, None, None, "atomic", &[])),
        ("operations", list(None, None, None, "atomic", &[])),
        ("apiGroups", list(None, None, None, "atomic", &[])),
        ("apiVersions", list(None, None, None, "atomic", &[])),
        ("resources", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ParamKind", true, &[]),
    ("io.k8s.api.admissionregistration.v1.ParamRef", true, &[
        ("selector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
    ]),
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", false, &[
        ("operations", list(None, None, None, "atomic", &[])),
        ("apiGroups", list(None, None, None, "atomic", &[])),
        ("apiVersions", list(None, None, None, "atomic", &[])),
        ("resources", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ServiceReference", false, &[]),
    ("io.k8s.api.admissionregistration.v1.TypeChecking", false, &[
        ("expressionWarnings", list(Some("io.k8s.api.admissionregistration.v1.ExpressionWarning"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec")),
        ("status", obj("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus")),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec")),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec", false, &[
        ("paramRef", atomic_obj("io.k8s.api.admissionregistration.v1.ParamRef").omitted()),
        ("matchResources", atomic_obj("io.k8s.api.admissionregistration.v1.MatchResources").omitted()),
        ("validationActions", list(None, None, None, "set", &[])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec", false, &[
        ("paramKind", atomic_obj("io.k8s.api.admissionregistration.v1.ParamKind").omitted()),
        ("matchConstraints", atomic_obj("io.k8s.api.admissionregistration.v1.MatchResources").omitted()),
        ("validations", list(Some("io.k8s.api.admissionregistration.v1.Validation"), None, None, "atomic", &[])),
        ("auditAnnotations", list(Some("io.k8s.api.admissionregistration.v1.AuditAnnotation"), None, None, "atomic", &[])),
        ("matchConditions", list(Some("io.k8s.api.admissionregistration.v1.MatchCondition"), Some("merge"), Some("name"), "map", &["name"])),
        ("variables", list(Some("io.k8s.api.admissionregistration.v1.Variable"), Some("merge"), Some("name"), "map", &["name"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus", false, &[
        ("typeChecking", obj("io.k8s.api.admissionregistration.v1.TypeChecking").omitted()),
        ("conditions", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), None, None, "map", &["type"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhook", false, &[
        ("clientConfig", obj("io.k8s.api.admissionregistration.v1.WebhookClientConfig")),
        ("rules", list(Some("io.k8s.api.admissionregistration.v1.RuleWithOperations"), None, None, "atomic", &[])),
        ("namespaceSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("objectSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("admissionReviewVersions", list(None, None, None, "atomic", &[]).null()),
        ("matchConditions", list(Some("io.k8s.api.admissionregistration.v1.MatchCondition"), Some("merge"), Some("name"), "map", &["name"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("webhooks", list(Some("io.k8s.api.admissionregistration.v1.ValidatingWebhook"), Some("merge"), Some("name"), "map", &["name"])),
    ]),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfigurationList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.admissionregistration.v1.Validation", false, &[]),
    ("io.k8s.api.admissionregistration.v1.Variable", true, &[]),
    ("io.k8s.api.admissionregistration.v1.WebhookClientConfig", false, &[
        ("service", obj("io.k8s.api.admissionregistration.v1.ServiceReference").omitted()),
    ]),
    ("io.k8s.api.authentication.v1.BoundObjectReference", false, &[]),
    ("io.k8s.api.authentication.v1.SelfSubjectReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("status", obj("io.k8s.api.authentication.v1.SelfSubjectReviewStatus")),
    ]),
    ("io.k8s.api.authentication.v1.SelfSubjectReviewStatus", false, &[
        ("userInfo", obj("io.k8s.api.authentication.v1.UserInfo")),
    ]),
    ("io.k8s.api.authentication.v1.TokenRequest", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authentication.v1.TokenRequestSpec")),
        ("status", obj("io.k8s.api.authentication.v1.TokenRequestStatus")),
    ]),
    ("io.k8s.api.authentication.v1.TokenRequestSpec", false, &[
        ("audiences", list(None, None, None, "atomic", &[]).null()),
        ("boundObjectRef", obj("io.k8s.api.authentication.v1.BoundObjectReference").null()),
    ]),
    ("io.k8s.api.authentication.v1.TokenRequestStatus", false, &[]),
    ("io.k8s.api.authentication.v1.TokenReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authentication.v1.TokenReviewSpec")),
        ("status", obj("io.k8s.api.authentication.v1.TokenReviewStatus")),
    ]),
    ("io.k8s.api.authentication.v1.TokenReviewSpec", false, &[
        ("audiences", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authentication.v1.TokenReviewStatus", false, &[
        ("user", obj("io.k8s.api.authentication.v1.UserInfo")),
        ("audiences", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authentication.v1.UserInfo", false, &[
        ("groups", list(None, None, None, "atomic", &[])),
        ("extra", map(None)),
    ]),
    ("io.k8s.api.authorization.v1.FieldSelectorAttributes", false, &[
        ("requirements", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authorization.v1.LabelSelectorAttributes", false, &[
        ("requirements", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authorization.v1.LocalSubjectAccessReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authorization.v1.SubjectAccessReviewSpec")),
        ("status", obj("io.k8s.api.authorization.v1.SubjectAccessReviewStatus")),
    ]),
    ("io.k8s.api.authorization.v1.NonResourceAttributes", false, &[]),
    ("io.k8s.api.authorization.v1.NonResourceRule", false, &[
        ("verbs", list(None, None, None, "atomic", &[]).null()),
        ("nonResourceURLs", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authorization.v1.ResourceAttributes", false, &[
        ("fieldSelector", obj("io.k8s.api.authorization.v1.FieldSelectorAttributes").omitted()),
        ("labelSelector", obj("io.k8s.api.authorization.v1.LabelSelectorAttributes").omitted()),
    ]),
    ("io.k8s.api.authorization.v1.ResourceRule", false, &[
        ("verbs", list(None, None, None, "atomic", &[]).null()),
        ("apiGroups", list(None, None, None, "atomic", &[])),
        ("resources", list(None, None, None, "atomic", &[])),
        ("resourceNames", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.authorization.v1.SelfSubjectAccessReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec")),
        ("status", obj("io.k8s.api.authorization.v1.SubjectAccessReviewStatus")),
    ]),
    ("io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec", false, &[
        ("resourceAttributes", obj("io.k8s.api.authorization.v1.ResourceAttributes").omitted()),
        ("nonResourceAttributes", obj("io.k8s.api.authorization.v1.NonResourceAttributes").omitted()),
    ]),
    ("io.k8s.api.authorization.v1.SelfSubjectRulesReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec")),
        ("status", obj("io.k8s.api.authorization.v1.SubjectRulesReviewStatus")),
    ]),
    ("io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec", false, &[]),
    ("io.k8s.api.authorization.v1.SubjectAccessReview", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.authorization.v1.SubjectAccessReviewSpec")),
        ("status", obj("io.k8s.api.authorization.v1.SubjectAccessReviewStatus")),
    ]),
    ("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", false, &[
        ("resourceAttributes", obj("io.k8s.api.authorization.v1.ResourceAttributes").omitted()),
        ("nonResourceAttributes", obj("io.k8s.api.authorization.v1.NonResourceAttributes").omitted()),
        ("groups", list(None, None, None, "atomic", &[])),
        ("extra", map(None)),
    ]),
    ("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", false, &[]),
    ("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", false, &[
        ("resourceRules", list(Some("io.k8s.api.authorization.v1.ResourceRule"), None, None, "atomic", &[]).null()),
        ("nonResourceRules", list(Some("io.k8s.api.authorization.v1.NonResourceRule"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.certificates.v1.CertificateSigningRequest", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.certificates.v1.CertificateSigningRequestSpec")),
        ("status", obj("io.k8s.api.certificates.v1.CertificateSigningRequestStatus")),
    ]),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestCondition", false, &[]),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.certificates.v1.CertificateSigningRequest"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", false, &[
        ("usages", list(None, None, None, "atomic", &[])),
        ("groups", list(None, None, None, "atomic", &[])),
        ("extra", map(None)),
    ]),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestStatus", false, &[
        ("conditions", list(Some("io.k8s.api.certificates.v1.CertificateSigningRequestCondition"), None, None, "map", &["type"])),
    ]),
    ("io.k8s.api.coordination.v1.Lease", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.coordination.v1.LeaseSpec")),
    ]),
    ("io.k8s.api.coordination.v1.LeaseList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.coordination.v1.Lease"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.coordination.v1.LeaseSpec", false, &[]),
    ("io.k8s.api.discovery.v1.Endpoint", false, &[
        ("addresses", list(None, None, None, "set", &[]).null()),
        ("conditions", obj("io.k8s.api.discovery.v1.EndpointConditions")),
        ("targetRef", atomic_obj("io.k8s.api.core.v1.ObjectReference").omitted()),
        ("deprecatedTopology", map(None)),
        ("hints", obj("io.k8s.api.discovery.v1.EndpointHints").omitted()),
    ]),
    ("io.k8s.api.discovery.v1.EndpointConditions", false, &[]),
    ("io.k8s.api.discovery.v1.EndpointHints", false, &[
        ("forZones", list(Some("io.k8s.api.discovery.v1.ForZone"), None, None, "atomic", &[])),
        ("forNodes", list(Some("io.k8s.api.discovery.v1.ForNode"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.discovery.v1.EndpointPort", true, &[]),
    ("io.k8s.api.discovery.v1.EndpointSlice", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("endpoints", list(Some("io.k8s.api.discovery.v1.Endpoint"), None, None, "atomic", &[]).null()),
        ("ports", list(Some("io.k8s.api.discovery.v1.EndpointPort"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.discovery.v1.EndpointSliceList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.discovery.v1.EndpointSlice"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.discovery.v1.ForNode", false, &[]),
    ("io.k8s.api.discovery.v1.ForZone", false, &[]),
    ("io.k8s.api.events.v1.Event", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("series", obj("io.k8s.api.events.v1.EventSeries").omitted()),
        ("regarding", atomic_obj("io.k8s.api.core.v1.ObjectReference")),
        ("related", atomic_obj("io.k8s.api.core.v1.ObjectReference").omitted()),
        ("deprecatedSource", obj("io.k8s.api.core.v1.EventSource")),
    ]),
    ("io.k8s.api.events.v1.EventList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.events.v1.Event"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.events.v1.EventSeries", false, &[]),
    ("io.k8s.api.flowcontrol.v1.ExemptPriorityLevelConfiguration", false, &[]),
    ("io.k8s.api.flowcontrol.v1.FlowDistinguisherMethod", false, &[]),
    ("io.k8s.api.flowcontrol.v1.FlowSchema", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.flowcontrol.v1.FlowSchemaSpec")),
        ("status", obj("io.k8s.api.flowcontrol.v1.FlowSchemaStatus")),
    ]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaCondition", false, &[]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.flowcontrol.v1.FlowSchema"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaSpec", false, &[
        ("priorityLevelConfiguration", obj("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationReference")),
        ("distinguisherMethod", obj("io.k8s.api.flowcontrol.v1.FlowDistinguisherMethod").omitted()),
        ("rules", list(Some("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaStatus", false, &[
        ("conditions", list(Some("io.k8s.api.flowcontrol.v1.FlowSchemaCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.flowcontrol.v1.GroupSubject", false, &[]),
    ("io.k8s.api.flowcontrol.v1.LimitResponse", false, &[
        ("queuing", obj("io.k8s.api.flowcontrol.v1.QueuingConfiguration").omitted()),
    ]),
    ("io.k8s.api.flowcontrol.v1.LimitedPriorityLevelConfiguration", false, &[
        ("limitResponse", obj("io.k8s.api.flowcontrol.v1.LimitResponse")),
    ]),
    ("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", false, &[
        ("verbs", list(None, None, None, "set", &[]).null()),
        ("nonResourceURLs", list(None, None, None, "set", &[]).null()),
    ]),
    ("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", false, &[
        ("subjects", list(Some("io.k8s.api.flowcontrol.v1.Subject"), None, None, "atomic", &[]).null()),
        ("resourceRules", list(Some("io.k8s.api.flowcontrol.v1.ResourcePolicyRule"), None, None, "atomic", &[])),
        ("nonResourceRules", list(Some("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationSpec")),
        ("status", obj("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus")),
    ]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationCondition", false, &[]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationReference", false, &[]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationSpec", false, &[
        ("limited", obj("io.k8s.api.flowcontrol.v1.LimitedPriorityLevelConfiguration").omitted()),
        ("exempt", obj("io.k8s.api.flowcontrol.v1.ExemptPriorityLevelConfiguration").omitted()),
    ]),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus", false, &[
        ("conditions", list(Some("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationCondition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.flowcontrol.v1.QueuingConfiguration", false, &[]),
    ("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", false, &[
        ("verbs", list(None, None, None, "set", &[]).null()),
        ("apiGroups", list(None, None, None, "set", &[]).null()),
        ("resources", list(None, None, None, "set", &[]).null()),
        ("namespaces", list(None, None, None, "set", &[]).null()),
    ]),
    ("io.k8s.api.flowcontrol.v1.ServiceAccountSubject", false, &[]),
    ("io.k8s.api.flowcontrol.v1.Subject", false, &[
        ("user", obj("io.k8s.api.flowcontrol.v1.UserSubject").omitted()),
        ("group", obj("io.k8s.api.flowcontrol.v1.GroupSubject").omitted()),
        ("serviceAccount", obj("io.k8s.api.flowcontrol.v1.ServiceAccountSubject").omitted()),
    ]),
    ("io.k8s.api.flowcontrol.v1.UserSubject", false, &[]),
    ("io.k8s.api.networking.v1.HTTPIngressPath", false, &[
        ("backend", obj("io.k8s.api.networking.v1.IngressBackend")),
    ]),
    ("io.k8s.api.networking.v1.HTTPIngressRuleValue", false, &[
        ("paths", list(Some("io.k8s.api.networking.v1.HTTPIngressPath"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.IPAddress", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.networking.v1.IPAddressSpec")),
    ]),
    ("io.k8s.api.networking.v1.IPAddressList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.networking.v1.IPAddress"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.IPAddressSpec", false, &[
        ("parentRef", obj("io.k8s.api.networking.v1.ParentReference").omitted()),
    ]),
    ("io.k8s.api.networking.v1.IPBlock", false, &[
        ("except", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.Ingress", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.networking.v1.IngressSpec")),
        ("status", obj("io.k8s.api.networking.v1.IngressStatus")),
    ]),
    ("io.k8s.api.networking.v1.IngressBackend", false, &[
        ("service", obj("io.k8s.api.networking.v1.IngressServiceBackend").omitted()),
        ("resource", atomic_obj("io.k8s.api.core.v1.TypedLocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.networking.v1.IngressClass", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.networking.v1.IngressClassSpec")),
    ]),
    ("io.k8s.api.networking.v1.IngressClassList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.networking.v1.IngressClass"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.IngressClassParametersReference", false, &[]),
    ("io.k8s.api.networking.v1.IngressClassSpec", false, &[
        ("parameters", obj("io.k8s.api.networking.v1.IngressClassParametersReference").omitted()),
    ]),
    ("io.k8s.api.networking.v1.IngressList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.networking.v1.Ingress"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.IngressLoadBalancerIngress", false, &[
        ("ports", list(Some("io.k8s.api.networking.v1.IngressPortStatus"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.IngressLoadBalancerStatus", false, &[
        ("ingress", list(Some("io.k8s.api.networking.v1.IngressLoadBalancerIngress"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.IngressPortStatus", false, &[]),
    ("io.k8s.api.networking.v1.IngressRule", false, &[
        ("http", obj("io.k8s.api.networking.v1.HTTPIngressRuleValue").omitted()),
    ]),
    ("io.k8s.api.networking.v1.IngressServiceBackend", false, &[
        ("port", atomic_obj("io.k8s.api.networking.v1.ServiceBackendPort")),
    ]),
    ("io.k8s.api.networking.v1.IngressSpec", false, &[
        ("defaultBackend", obj("io.k8s.api.networking.v1.IngressBackend").omitted()),
        ("tls", list(Some("io.k8s.api.networking.v1.IngressTLS"), None, None, "atomic", &[])),
        ("rules", list(Some("io.k8s.api.networking.v1.IngressRule"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.IngressStatus", false, &[
        ("loadBalancer", obj("io.k8s.api.networking.v1.IngressLoadBalancerStatus")),
    ]),
    ("io.k8s.api.networking.v1.IngressTLS", false, &[
        ("hosts", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicy", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.networking.v1.NetworkPolicySpec")),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", false, &[
        ("ports", list(Some("io.k8s.api.networking.v1.NetworkPolicyPort"), None, None, "atomic", &[])),
        ("to", list(Some("io.k8s.api.networking.v1.NetworkPolicyPeer"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", false, &[
        ("ports", list(Some("io.k8s.api.networking.v1.NetworkPolicyPort"), None, None, "atomic", &[])),
        ("from", list(Some("io.k8s.api.networking.v1.NetworkPolicyPeer"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicyList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.networking.v1.NetworkPolicy"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicyPeer", false, &[
        ("podSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("namespaceSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
        ("ipBlock", obj("io.k8s.api.networking.v1.IPBlock").omitted()),
    ]),
    ("io.k8s.api.networking.v1.NetworkPolicyPort", false, &[]),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", false, &[
        ("podSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")),
        ("ingress", list(Some("io.k8s.api.networking.v1.NetworkPolicyIngressRule"), None, None, "atomic", &[])),
        ("egress", list(Some("io.k8s.api.networking.v1.NetworkPolicyEgressRule"), None, None, "atomic", &[])),
        ("policyTypes", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.ParentReference", false, &[]),
    ("io.k8s.api.networking.v1.ServiceBackendPort", true, &[]),
    ("io.k8s.api.networking.v1.ServiceCIDR", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.networking.v1.ServiceCIDRSpec")),
        ("status", obj("io.k8s.api.networking.v1.ServiceCIDRStatus")),
    ]),
    ("io.k8s.api.networking.v1.ServiceCIDRList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.networking.v1.ServiceCIDR"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.networking.v1.ServiceCIDRSpec", false, &[
        ("cidrs", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.networking.v1.ServiceCIDRStatus", false, &[
        ("conditions", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), Some("merge"), Some("type"), "map", &["type"])),
    ]),
    ("io.k8s.api.node.v1.Overhead", false, &[
        ("podFixed", map(None)),
    ]),
    ("io.k8s.api.node.v1.RuntimeClass", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("overhead", obj("io.k8s.api.node.v1.Overhead").omitted()),
        ("scheduling", obj("io.k8s.api.node.v1.Scheduling").omitted()),
    ]),
    ("io.k8s.api.node.v1.RuntimeClassList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.node.v1.RuntimeClass"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.node.v1.Scheduling", false, &[
        ("nodeSelector", atomic_map(None)),
        ("tolerations", list(Some("io.k8s.api.core.v1.Toleration"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.rbac.v1.AggregationRule", false, &[
        ("clusterRoleSelectors", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.rbac.v1.ClusterRole", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("rules", list(Some("io.k8s.api.rbac.v1.PolicyRule"), None, None, "atomic", &[]).null()),
        ("aggregationRule", obj("io.k8s.api.rbac.v1.AggregationRule").omitted()),
    ]),
    ("io.k8s.api.rbac.v1.ClusterRoleBinding", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("subjects", list(Some("io.k8s.api.rbac.v1.Subject"), None, None, "atomic", &[])),
        ("roleRef", atomic_obj("io.k8s.api.rbac.v1.RoleRef")),
    ]),
    ("io.k8s.api.rbac.v1.ClusterRoleBindingList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.rbac.v1.ClusterRoleBinding"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.rbac.v1.ClusterRoleList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.rbac.v1.ClusterRole"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.rbac.v1.PolicyRule", false, &[
        ("verbs", list(None, None, None, "atomic", &[]).null()),
        ("apiGroups", list(None, None, None, "atomic", &[])),
        ("resources", list(None, None, None, "atomic", &[])),
        ("resourceNames", list(None, None, None, "atomic", &[])),
        ("nonResourceURLs", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.rbac.v1.Role", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("rules", list(Some("io.k8s.api.rbac.v1.PolicyRule"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.rbac.v1.RoleBinding", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("subjects", list(Some("io.k8s.api.rbac.v1.Subject"), None, None, "atomic", &[])),
        ("roleRef", atomic_obj("io.k8s.api.rbac.v1.RoleRef")),
    ]),
    ("io.k8s.api.rbac.v1.RoleBindingList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.rbac.v1.RoleBinding"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.rbac.v1.RoleList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.rbac.v1.Role"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.rbac.v1.RoleRef", true, &[]),
    ("io.k8s.api.rbac.v1.Subject", true, &[]),
    ("io.k8s.api.scheduling.v1.PriorityClass", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
    ]),
    ("io.k8s.api.scheduling.v1.PriorityClassList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.scheduling.v1.PriorityClass"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.CSIDriver", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.storage.v1.CSIDriverSpec")),
    ]),
    ("io.k8s.api.storage.v1.CSIDriverList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.storage.v1.CSIDriver"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.CSIDriverSpec", false, &[
        ("volumeLifecycleModes", list(None, None, None, "set", &[])),
        ("tokenRequests", list(Some("io.k8s.api.storage.v1.TokenRequest"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.storage.v1.CSINode", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.storage.v1.CSINodeSpec")),
    ]),
    ("io.k8s.api.storage.v1.CSINodeDriver", false, &[
        ("topologyKeys", list(None, None, None, "atomic", &[]).null()),
        ("allocatable", obj("io.k8s.api.storage.v1.VolumeNodeResources").omitted()),
    ]),
    ("io.k8s.api.storage.v1.CSINodeList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.storage.v1.CSINode"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.CSINodeSpec", false, &[
        ("drivers", list(Some("io.k8s.api.storage.v1.CSINodeDriver"), Some("merge"), Some("name"), "map", &["name"]).null()),
    ]),
    ("io.k8s.api.storage.v1.CSIStorageCapacity", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("nodeTopology", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
    ]),
    ("io.k8s.api.storage.v1.CSIStorageCapacityList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.storage.v1.CSIStorageCapacity"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.StorageClass", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("parameters", map(None)),
        ("mountOptions", list(None, None, None, "atomic", &[])),
        ("allowedTopologies", list(Some("io.k8s.api.core.v1.TopologySelectorTerm"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.storage.v1.StorageClassList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.storage.v1.StorageClass"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.TokenRequest", false, &[]),
    ("io.k8s.api.storage.v1.VolumeAttachment", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")),
        ("spec", obj("io.k8s.api.storage.v1.VolumeAttachmentSpec")),
        ("status", obj("io.k8s.api.storage.v1.VolumeAttachmentStatus")),
    ]),
    ("io.k8s.api.storage.v1.VolumeAttachmentList", false, &[
        ("metadata", obj("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")),
        ("items", list(Some("io.k8s.api.storage.v1.VolumeAttachment"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.storage.v1.VolumeAttachmentSource", false, &[
        ("inlineVolumeSpec", obj("io.k8s.api.core.v1.PersistentVolumeSpec").omitted()),
    ]),
    ("io.k8s.api.storage.v1.VolumeAttachmentSpec", false, &[
        ("source", obj("io.k8s.api.storage.v1.VolumeAttachmentSource")),
    ]),
    ("io.k8s.api.storage.v1.VolumeAttachmentStatus", false, &[
        ("attachmentMetadata", map(None)),
        ("attachError", obj("io.k8s.api.storage.v1.VolumeError").omitted()),
        ("detachError", obj("io.k8s.api.storage.v1.VolumeError").omitted()),
    ]),
    ("io.k8s.api.storage.v1.VolumeError", false, &[]),
    ("io.k8s.api.storage.v1.VolumeNodeResources", false, &[]),
];
