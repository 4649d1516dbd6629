//! Pulling from OCI / Docker registries (distribution API v2).

pub mod auth;
mod client;
mod pull;
