//! Kubernetes API logic with no I/O.
