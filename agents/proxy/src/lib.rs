//! `rkube proxy`: kube-proxy's iptables mode.
//!
//! Services and EndpointSlices are watched into local caches; every sync renders the
//! node's whole desired ruleset in memory ([`render::ProxyRules::render`], no I/O) and
//! applies it with one `iptables-restore --noflush` per table — after the first full
//! sync, only the chains that changed.

pub mod chains;
pub mod cidr;
pub mod model;
pub mod render;
pub mod restore;
pub mod ruleset;

#[cfg(test)]
mod render_tests;
