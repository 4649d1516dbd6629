//! The rkube apiserver.
