//! The parameters of the REST operations, in an OpenAPI-version-neutral form.

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
}

/// The primitive type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Boolean,
    Integer,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Boolean => "boolean",
            Ty::Integer => "integer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: &'static str,
    pub location: In,
    pub ty: Ty,
    pub description: String,
    pub required: bool,
}

fn query(name: &'static str, ty: Ty, description: &str) -> Param {
    Param {
        name,
        location: In::Query,
        ty,
        description: description.to_string(),
        required: false,
    }
}

fn path(name: &'static str, description: String) -> Param {
    Param {
        name,
        location: In::Path,
        ty: Ty::String,
        description,
        required: true,
    }
}

pub(crate) fn name(kind: &str) -> Param {
    path("name", format!("name of the {kind}"))
}

pub(crate) fn namespace() -> Param {
    path(
        "namespace",
        "namespace of the object; it also scopes names and authorization".to_string(),
    )
}

pub(crate) fn proxy_path() -> Param {
    path("path", "path to the resource".to_string())
}

pub(crate) fn pretty() -> Param {
    query(
        "pretty",
        Ty::String,
        "If 'true', the response is indented for humans. Defaults to 'false' unless the user agent looks like a browser or a command-line HTTP tool.",
    )
}

pub(crate) fn dry_run() -> Param {
    query(
        "dryRun",
        Ty::String,
        "When present, the request is fully processed (defaulting, admission, validation) but nothing is persisted. The only valid value is \"All\"; anything else is rejected.",
    )
}

pub(crate) fn field_manager() -> Param {
    query(
        "fieldManager",
        Ty::String,
        "Name of the actor making the change, recorded in managedFields. At most 128 printable characters. Required for apply patches, optional otherwise.",
    )
}

pub(crate) fn field_validation() -> Param {
    query(
        "fieldValidation",
        Ty::String,
        "What the server does with unknown or duplicated fields in the request body: \"Ignore\" drops them silently, \"Warn\" (the default) drops them and returns one Warning header per field, \"Strict\" fails the request with a BadRequest listing them.",
    )
}

pub(crate) fn force() -> Param {
    query(
        "force",
        Ty::Boolean,
        "Apply patches only: take ownership of the fields that conflict with other managers instead of failing. Must be unset for the other patch types.",
    )
}

pub(crate) fn grace_period_seconds() -> Param {
    query(
        "gracePeriodSeconds",
        Ty::Integer,
        "Seconds to wait before the object is deleted; a non-negative integer. Zero means delete at once. Unset means the default of the kind.",
    )
}

pub(crate) fn ignore_store_read_error() -> Param {
    query(
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        Ty::Boolean,
        "Delete an object that cannot be read from storage (corrupt or undecryptable), bypassing finalizers and admission. Unsafe; requires an extra authorization check.",
    )
}

pub(crate) fn orphan_dependents() -> Param {
    query(
        "orphanDependents",
        Ty::Boolean,
        "Deprecated, use propagationPolicy. When true, the \"orphan\" finalizer is added and dependents are left behind; when false, the dependents are garbage collected.",
    )
}

pub(crate) fn propagation_policy() -> Param {
    query(
        "propagationPolicy",
        Ty::String,
        "Whether and how dependents are garbage collected: \"Orphan\" leaves them, \"Background\" deletes them after the owner is gone, \"Foreground\" deletes them before the owner. Only one of this and orphanDependents may be given.",
    )
}

/// The parameters of a list or watch of a collection.
pub(crate) fn list_params() -> Vec<Param> {
    vec![
        query(
            "allowWatchBookmarks",
            Ty::Boolean,
            "Ask for BOOKMARK events in a watch; the server sends them at its own discretion and clients must not assume any interval. Ignored by non-watch requests.",
        ),
        query(
            "continue",
            Ty::String,
            "The continue token of a previous chunk of a paginated list, to get the next chunk. The other parameters must be the same as for the first chunk. An expired token fails with 410 ResourceExpired.",
        ),
        query(
            "fieldSelector",
            Ty::String,
            "Only the objects whose fields match this selector are returned, e.g. metadata.name=foo. Defaults to everything.",
        ),
        query(
            "labelSelector",
            Ty::String,
            "Only the objects whose labels match this selector are returned. Defaults to everything.",
        ),
        query(
            "limit",
            Ty::Integer,
            "The most items to return in one response. When there are more, the list metadata carries a continue token for the next chunk and, when known, the number of remaining items.",
        ),
        query(
            "resourceVersion",
            Ty::String,
            "Which resource version the response may be served from. Unset means the most recent (a quorum read); \"0\" means any version; other values bound the version as resourceVersionMatch says.",
        ),
        query(
            "resourceVersionMatch",
            Ty::String,
            "How resourceVersion applies to a list: \"NotOlderThan\" or \"Exact\". Only valid when resourceVersion is set.",
        ),
        query(
            "sendInitialEvents",
            Ty::Boolean,
            "With watch=true, the stream starts with synthetic ADDED events for the current state, then a BOOKMARK annotated \"k8s.io/initial-events-end\". Requires resourceVersionMatch=NotOlderThan.",
        ),
        query(
            "timeoutSeconds",
            Ty::Integer,
            "Time limit of the list or watch call, whatever the activity.",
        ),
        query(
            "watch",
            Ty::Boolean,
            "Stream add, update and remove notifications of the selected objects instead of listing them. Start from resourceVersion.",
        ),
    ]
}

/// The query parameters of a create or replace.
pub(crate) fn write_params() -> Vec<Param> {
    vec![dry_run(), field_manager(), field_validation()]
}

/// The query parameters of a patch.
pub(crate) fn patch_params() -> Vec<Param> {
    vec![dry_run(), field_manager(), field_validation(), force()]
}

/// The query parameters of a delete.
pub(crate) fn delete_params() -> Vec<Param> {
    vec![
        dry_run(),
        grace_period_seconds(),
        ignore_store_read_error(),
        orphan_dependents(),
        propagation_policy(),
    ]
}

/// The query parameters of pods/log.
pub(crate) fn log_params() -> Vec<Param> {
    vec![
        query("container", Ty::String, "The container to stream the log of. May be omitted when the pod has one container."),
        query("follow", Ty::Boolean, "Keep streaming the log as it grows."),
        query("insecureSkipTLSVerifyBackend", Ty::Boolean, "Do not verify the serving certificate of the kubelet the log is read from."),
        query("limitBytes", Ty::Integer, "Stop after this many bytes of log; the last line may be cut."),
        query("previous", Ty::Boolean, "Return the log of the previous, terminated instance of the container."),
        query("sinceSeconds", Ty::Integer, "Only the log lines newer than this many seconds. Only one of sinceSeconds and sinceTime may be given."),
        query("stream", Ty::String, "Which stream to return: \"All\" (the default), \"Stdout\" or \"Stderr\"."),
        query("tailLines", Ty::Integer, "Only the last lines of the log, this many of them."),
        query("timestamps", Ty::Boolean, "Prefix every line with an RFC3339 timestamp."),
    ]
}

/// The query parameters of a connect subresource (exec, attach, portforward, proxy).
pub(crate) fn connect_params(sub: &str) -> Vec<Param> {
    let stdio = || {
        vec![
            query(
                "container",
                Ty::String,
                "The container to connect to. May be omitted when the pod has one container.",
            ),
            query("stderr", Ty::Boolean, "Redirect the standard error stream."),
            query("stdin", Ty::Boolean, "Redirect the standard input stream."),
            query(
                "stdout",
                Ty::Boolean,
                "Redirect the standard output stream.",
            ),
            query("tty", Ty::Boolean, "Allocate a terminal for the session."),
        ]
    };
    match sub {
        "exec" => {
            let mut p = vec![query(
                "command",
                Ty::String,
                "The command to run; repeat the parameter for each argument.",
            )];
            p.extend(stdio());
            p.sort_by_key(|p| p.name);
            p
        }
        "attach" => stdio(),
        "portforward" => vec![query(
            "ports",
            Ty::Integer,
            "The ports to forward; repeat the parameter for each port.",
        )],
        "proxy" => vec![query(
            "path",
            Ty::String,
            "Path of the request to the proxied object.",
        )],
        _ => Vec::new(),
    }
}
