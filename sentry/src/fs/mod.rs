//! Filesystem implementations.

pub mod gofer;
pub mod host;
pub mod overlay;
pub mod tmpfs;
