//! Conversion between the served versions of a kind that share one stored form
//! (upstream's hand-written `conversion.go` functions, expressed on JSON).

pub mod hpa;
mod hpa_metrics;
