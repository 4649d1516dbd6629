//! Pod networking: addresses from the node's podCIDR, a bridge in the node's namespace and
//! a veth per pod.

pub mod ipam;
pub mod link;
