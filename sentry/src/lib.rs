//! The sentry: a kernel in user space that implements the Linux system call
//! interface for sandboxed applications.
//!
//! The sentry never opens host paths: its filesystems are served by gofers
//! over sockets, and it runs application code through a [`platform`].

pub mod errno;
pub mod fs;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod strace;
pub mod syscalls;
pub mod vfs;

use std::sync::Arc;

use platform::Platform;

use crate::errno::Errno;
use crate::fs::gofer::GoferFs;
use crate::fs::overlay::OverlayInode;
use crate::fs::proc::{ProcFs, ProcInode};
use crate::fs::tmpfs::TmpfsInode;
pub use crate::kernel::task::{Creds, ExitStatus, InitProcess, StartError};
pub use crate::kernel::KernelConfig;
use crate::kernel::{task::Task, Kernel};
use crate::mm::MemoryFile;
use crate::vfs::path::Walker;
use crate::vfs::{Dentry, Inode};

/// What a filesystem in the sandbox is backed by.
pub enum FsSource {
    /// A gofer connection serving a host directory.
    Gofer {
        /// The connection.
        client: gofer::Client,
        /// Refuse writes (EROFS).
        readonly: bool,
        /// Keep writes in sandbox memory instead of the host.
        overlay: bool,
    },
    /// An empty tmpfs.
    Tmpfs {
        /// Mode of its root directory.
        mode: u32,
    },
    /// The sandbox's own /dev (null, zero, full, random, urandom).
    Dev,
    /// The sandbox's /proc.
    Proc,
    /// A /sys with what libc and runtimes read (cpu counts).
    Sys,
}

/// One mount of the sandbox.
pub struct MountSpec {
    /// Absolute path in the sandbox.
    pub dest: Vec<u8>,
    /// What is mounted.
    pub source: FsSource,
}

/// Everything the sentry needs to start a sandbox.
pub struct BootSpec {
    /// Kernel settings.
    pub kernel: KernelConfig,
    /// The root filesystem.
    pub root: FsSource,
    /// Further mounts, in order.
    pub mounts: Vec<MountSpec>,
    /// The first process.
    pub init: InitProcess,
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// A filesystem could not be set up.
    #[error("mount {0}: {1}")]
    Mount(String, Errno),
    /// The first process could not start.
    #[error(transparent)]
    Start(#[from] StartError),
}

/// The minimal /sys: online, possible and present CPU lists.
fn make_sys() -> Result<Arc<dyn Inode>, Errno> {
    let root = TmpfsInode::new_root(0o555);
    let n = crate::kernel::ncpus();
    let list = if n == 1 {
        "0\n".to_string()
    } else {
        format!("0-{}\n", n - 1)
    };
    let cpu = root
        .create_dir(b"devices", 0o755)?
        .create_dir(b"system", 0o755)?
        .create_dir(b"cpu", 0o755)?;
    for f in [&b"online"[..], b"possible", b"present"] {
        cpu.create_file(f, 0o444, list.clone().into_bytes())?;
    }
    Ok(root)
}

fn make_fs(source: FsSource, proc: &Arc<ProcFs>) -> Result<Arc<dyn Inode>, Errno> {
    Ok(match source {
        FsSource::Gofer {
            client,
            readonly,
            overlay,
        } => {
            let root = GoferFs::mount(client, readonly || overlay)?;
            if overlay {
                OverlayInode::new_root(root)
            } else {
                root
            }
        }
        FsSource::Tmpfs { mode } => TmpfsInode::new_root(mode),
        FsSource::Dev => crate::fs::dev::DevDir::new(),
        FsSource::Proc => ProcInode::root(proc.clone()),
        FsSource::Sys => make_sys()?,
    })
}

/// Mounts `source` at `dest`, creating the mount point if needed.
fn mount_at(
    root: &Arc<Dentry>,
    dest: &[u8],
    source: FsSource,
    proc: &Arc<ProcFs>,
) -> Result<(), Errno> {
    let walker = Walker {
        root,
        start: root,
        rules: Default::default(),
    };
    let target = match walker.walk(dest, true) {
        Ok(d) => d,
        Err(Errno::ENOENT) => {
            // Create the missing components (in an overlay or tmpfs).
            let mut cur = root.clone();
            for c in dest.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
                cur = match cur.child(c) {
                    Ok(d) => d,
                    Err(Errno::ENOENT) => match cur.inode.mkdir(c, 0o755) {
                        Ok(()) => cur.child(c)?,
                        Err(Errno::EROFS) => cur.add_synthetic(c, TmpfsInode::new_root(0o755)),
                        Err(e) => return Err(e),
                    },
                    Err(e) => return Err(e),
                };
            }
            cur
        }
        Err(e) => return Err(e),
    };
    target.mount(make_fs(source, proc)?);
    Ok(())
}

/// Builds the sandbox's filesystem tree, starts the first process on
/// `platform`, runs it on the calling thread and returns how it ended.
pub fn boot(
    platform: Arc<dyn Platform>,
    mf: Arc<MemoryFile>,
    spec: BootSpec,
) -> Result<ExitStatus, BootError> {
    crate::mm::memfile::set_global(mf.clone());
    let proc = ProcFs::new();
    let root_inode = make_fs(spec.root, &proc).map_err(|e| BootError::Mount("/".into(), e))?;
    let root = Dentry::new_root(root_inode);
    for m in spec.mounts {
        let name = String::from_utf8_lossy(&m.dest).into_owned();
        mount_at(&root, &m.dest, m.source, &proc).map_err(|e| BootError::Mount(name, e))?;
    }
    let kernel = Kernel::new(platform, mf, root, spec.kernel);
    proc.attach(&kernel);
    let task = Task::start(kernel.clone(), spec.init)?;
    let pid = task.pid;
    task.run();
    Ok(kernel.procs.wait_exit(pid))
}
