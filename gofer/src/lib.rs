//! The gofer: the file protocol between the sentry and the gofer process, its
//! client (used by the sentry) and its confined server (run by `runsc gofer`).
//!
//! # Why
//!
//! The sentry never opens host paths. For each mount it holds one socket to a
//! gofer server, which owns a root directory and answers file operations,
//! donating host fds with `SCM_RIGHTS` for opens. A compromised sentry must not
//! be able to use the gofer to leave that root, whatever it sends.
//!
//! # Protocol model (like gVisor's lisafs)
//!
//! The server keeps a table of *nodes*: each is an `O_PATH | O_NOFOLLOW` fd for
//! a file inside its root, named by a [`NodeId`]. A walk is one path component
//! at a time: `(dir NodeId, name)` → `openat(dirfd, name, O_PATH|O_NOFOLLOW)`.
//! Names that are empty (`ENOENT`), `.` / `..` or contain `/` or NUL
//! (`EINVAL`) are refused. The server never follows a symlink and never
//! resolves `..`: the sentry reads symlinks with [`Client::readlink`] and walks
//! again from its own root. Only regular files and directories are ever
//! opened; symlinks give `ELOOP`, fifos and device nodes `EACCES`, sockets
//! `ENXIO` (what Linux answers for `open` of a socket).
//!
//! # Transport
//!
//! A unix `SOCK_STREAM` socket pair ([`socket_pair`]), chosen over
//! `SOCK_SEQPACKET` because a seqpacket message may not exceed the socket
//! buffer (≈200 KiB by default) while our messages may be up to
//! [`wire::MAX_MESSAGE`] (1 MiB). Every message is length-prefixed; fds ride
//! with the first bytes of a reply. See [`wire`] for the exact layout.
//!
//! The [`Client`] serializes calls with a mutex (one request in flight per
//! connection); the server handles one connection on one thread, in order.

#![deny(missing_docs)]

mod client;
pub mod message;
mod server;
mod sys;
pub mod wire;

#[cfg(test)]
mod tests;

pub use client::Client;
pub use server::{open_proc_self_fd, serve, serve_with_proc_fd, ServerConfig};

use std::os::fd::OwnedFd;

/// Names one file known to the server (an entry of its node table). Handed
/// out by walks and creations; valid until [`Client::close`]. Ids are never
/// reused within a connection; an unknown id gives `EBADF`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct NodeId(pub u64);

/// A point in time as the kernel reports it (seconds and nanoseconds since the
/// epoch), carried in [`Stat`] and [`TimeSet`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: i64,
}

/// The host `struct stat` of a node (never following a symlink), so that the
/// sentry can build its own inode from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Host device id.
    pub dev: u64,
    /// Host inode number.
    pub ino: u64,
    /// File type and permission bits (`S_IF*` | mode).
    pub mode: u32,
    /// Hard link count.
    pub nlink: u64,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for device nodes.
    pub rdev: u64,
    /// Size in bytes.
    pub size: i64,
    /// Preferred I/O block size.
    pub blksize: i64,
    /// Number of 512-byte blocks allocated.
    pub blocks: i64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

impl Stat {
    /// The `S_IFMT` bits of `mode`.
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
    /// Whether the node is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }
    /// Whether the node is a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type() == libc::S_IFREG
    }
    /// Whether the node is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == libc::S_IFLNK
    }
}

/// One directory entry, as [`Client::getdents`] returns it (`.` and `..` are
/// never included; the sentry adds them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (no NUL, no `/`).
    pub name: Vec<u8>,
    /// Host inode number.
    pub ino: u64,
    /// `DT_*` type, `DT_UNKNOWN` if the filesystem does not say.
    pub kind: u8,
}

/// The host `statfs` of the filesystem holding a node, for the sentry's
/// `statfs(2)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    /// Filesystem magic (`f_type`).
    pub fs_type: i64,
    /// Optimal transfer block size.
    pub bsize: i64,
    /// Total data blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks available to unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Maximum name length.
    pub namelen: i64,
    /// Fragment size.
    pub frsize: i64,
    /// Mount flags (`ST_*`).
    pub flags: i64,
}

/// A time to set with [`SetAttr`]: `utimensat`'s `UTIME_NOW` or an explicit
/// time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSet {
    /// The server's current time (`UTIME_NOW`).
    Now,
    /// This exact time.
    At(Timespec),
}

/// The attributes [`Client::setattr`] changes; `None` leaves one unchanged.
/// Applied in order mode, owner, size, times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// New permission bits (`& 0o7777`); `EOPNOTSUPP` on a symlink.
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size (regular files only).
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<TimeSet>,
    /// New modification time.
    pub mtime: Option<TimeSet>,
}

/// Everything that can go wrong talking to the gofer.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// The host (or the server's checks) answered this errno.
    #[error("host error: errno {0}")]
    Errno(i32),
    /// The peer sent something malformed, or the connection is unusable.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The socket itself failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The errno to give the application: the host's for [`Error::Errno`],
    /// `EIO` for anything else.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Errno(e) => *e,
            _ => libc::EIO,
        }
    }
}

impl From<nix::errno::Errno> for Error {
    fn from(e: nix::errno::Errno) -> Self {
        Error::Errno(e as i32)
    }
}

/// Result of every gofer operation.
pub type Result<T> = std::result::Result<T, Error>;

/// A connected `(client_fd, server_fd)` unix `SOCK_STREAM` pair (both
/// `CLOEXEC`), for tests and for the sentry's set-up of a mount.
pub fn socket_pair() -> Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((a, b))
}
