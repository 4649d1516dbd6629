//! ResourceQuota and LimitRange logic shared by the apiserver's admission plugins and
//! the resourcequota controller: usage of objects, quota decisions, limit defaults.

pub mod evaluate;
pub mod limit_range;
pub mod list;
pub mod usage;

pub use evaluate::Refusal;
pub use list::ResourceList;

#[cfg(test)]
mod tests;
