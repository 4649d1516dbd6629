//! Patch logic of the apiserver with no I/O: JSON patch (RFC 6902), JSON merge
//! patch (RFC 7386), strategic merge patch and server-side apply with
//! managedFields, all pure functions over `serde_json::Value`.

pub mod schema;
