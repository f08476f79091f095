//! Filesystem implementations.

pub mod dev;
pub mod epoll;
pub mod eventfd;
pub mod gofer;
pub mod host;
pub mod inotify;
pub mod overlay;
pub mod pidfd;
pub mod pipe;
pub mod proc;
pub mod pty;
pub mod signalfd;
pub mod socketpair;
pub mod timerfd;
pub mod tmpfs;
