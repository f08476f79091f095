//! The sandbox spec: what the launcher tells the sandbox process to run.
//! Sent as JSON over a pipe; gofer connections follow as inherited fds.

use serde::{Deserialize, Serialize};

use crate::cli::PlatformKind;

/// The first gofer connection's fd number in the sandbox process.
pub const FIRST_GOFER_FD: i32 = 10;

/// A filesystem of the sandbox.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub enum FsSpec {
    /// Served by the gofer connection at `FIRST_GOFER_FD + index`.
    Gofer {
        /// Index of the connection.
        index: usize,
        /// Refuse writes.
        readonly: bool,
        /// Keep writes in sandbox memory.
        overlay: bool,
    },
    /// An empty tmpfs.
    Tmpfs {
        /// Mode of its root.
        mode: u32,
    },
    /// The sandbox's own /dev.
    Dev,
    /// The sandbox's /proc.
    Proc,
    /// The sandbox's /sys.
    Sys,
}

/// The mounts every sandbox gets: its own /dev, /proc and /sys, so that
/// nothing of the host's shows through.
pub fn system_mounts() -> Vec<MountSpec> {
    [
        (&b"/dev"[..], FsSpec::Dev),
        (b"/dev/shm", FsSpec::Tmpfs { mode: 0o1777 }),
        (b"/proc", FsSpec::Proc),
        (b"/sys", FsSpec::Sys),
    ]
    .into_iter()
    .map(|(d, fs)| MountSpec {
        dest: d.to_vec(),
        fs,
    })
    .collect()
}

/// A mount in the sandbox.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct MountSpec {
    /// Absolute destination path.
    pub dest: Vec<u8>,
    /// What is mounted.
    pub fs: FsSpec,
}

/// Everything the sandbox process needs.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SandboxSpec {
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub hostname: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: u32,
    pub root: FsSpec,
    pub mounts: Vec<MountSpec>,
    pub platform: PlatformKind,
    pub strace: bool,
}
