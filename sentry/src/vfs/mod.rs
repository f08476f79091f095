//! The virtual filesystem: inodes, dentries, path walk, open files and the
//! fd table. Filesystems (in `fs/`) implement [`Inode`] and [`FileOps`].

pub mod dentry;
pub mod fdtable;
pub mod file;
pub mod lock;
pub mod path;
pub mod shared_fds;

use std::any::Any;

use crate::errno::Errno;
pub use dentry::Dentry;
pub use fdtable::FdTable;
pub use file::{DirFile, File, FileOps};
pub use shared_fds::SharedFds;

/// A timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: i64,
}

impl Timespec {
    /// The current wall-clock time.
    pub fn now() -> Timespec {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos() as i64,
        }
    }
}

/// File attributes, in Linux terms.
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Stat {
    /// Attributes of a directory that lives only in the sandbox (/dev,
    /// /dev/pts): inode 1 of its filesystem, made at `created`.
    pub fn synthetic_dir(dev: u64, created: Timespec) -> Stat {
        Stat {
            dev,
            ino: 1,
            mode: libc::S_IFDIR | 0o755,
            nlink: 2,
            blksize: 4096,
            atime: created,
            mtime: created,
            ctime: created,
            ..Stat::default()
        }
    }

    /// Attributes of a file that lives only in the sandbox (pipes, epoll,
    /// eventfd...), created now.
    pub fn anon(dev: u64, ino: u64, mode: u32) -> Stat {
        let now = Timespec::now();
        Stat {
            dev,
            ino,
            mode,
            nlink: 1,
            blksize: 4096,
            atime: now,
            mtime: now,
            ctime: now,
            ..Stat::default()
        }
    }

    /// The `S_IFMT` part of the mode.
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    /// Is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }

    /// Is a regular file.
    pub fn is_reg(&self) -> bool {
        self.file_type() == libc::S_IFREG
    }

    /// Is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == libc::S_IFLNK
    }

    /// The `DT_*` value for getdents.
    pub fn dirent_type(&self) -> u8 {
        (self.file_type() >> 12) as u8
    }
}

impl From<gofer::Stat> for Stat {
    fn from(s: gofer::Stat) -> Stat {
        let t = |t: gofer::Timespec| Timespec {
            sec: t.sec,
            nsec: t.nsec,
        };
        Stat {
            dev: s.dev,
            ino: s.ino,
            mode: s.mode,
            nlink: s.nlink,
            uid: s.uid,
            gid: s.gid,
            rdev: s.rdev,
            size: s.size,
            blksize: s.blksize,
            blocks: s.blocks,
            atime: t(s.atime),
            mtime: t(s.mtime),
            ctime: t(s.ctime),
        }
    }
}

/// One directory entry.
#[derive(Clone, Debug)]
pub struct DirEntry {
    /// Name (no "/").
    pub name: Vec<u8>,
    /// Inode number.
    pub ino: u64,
    /// `DT_*`.
    pub kind: u8,
}

/// Attribute changes (chmod, chown, truncate, utimes).
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
}

/// A file in some filesystem. Directory operations take names of one
/// component; the VFS does the path walk.
pub trait Inode: Send + Sync + Any {
    /// Attributes.
    fn stat(&self) -> Result<Stat, Errno>;
    /// Opens it; `flags` are the open(2) flags.
    fn open(self: std::sync::Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno>;
    /// Finds a child of a directory.
    fn lookup(&self, _name: &[u8]) -> Result<std::sync::Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Lists a directory, without "." and "..".
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// The target of a symbolic link.
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno::EINVAL)
    }
    /// Creates a regular file `name` in this directory.
    fn create(&self, _name: &[u8], _mode: u32) -> Result<std::sync::Arc<dyn Inode>, Errno> {
        Err(Errno::EROFS)
    }
    /// Creates a directory.
    fn mkdir(&self, _name: &[u8], _mode: u32) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }
    /// Creates a symbolic link.
    fn symlink(&self, _name: &[u8], _target: &[u8]) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }
    /// Swaps entry `name` of this directory with entry `other` of
    /// `other_dir` (renameat2 RENAME_EXCHANGE); EINVAL where unsupported.
    fn exchange(&self, _name: &[u8], _other_dir: &dyn Inode, _other: &[u8]) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// The value of extended attribute `name` (ENODATA when absent).
    fn get_xattr(&self, _name: &[u8]) -> Result<Vec<u8>, Errno> {
        Err(Errno::ENODATA)
    }
    /// Sets extended attribute `name` (`flags`: XATTR_CREATE,
    /// XATTR_REPLACE); EOPNOTSUPP where the filesystem keeps none.
    fn set_xattr(&self, _name: &[u8], _value: &[u8], _flags: i32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Removes extended attribute `name`.
    fn remove_xattr(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(Errno::ENODATA)
    }
    /// The names of the extended attributes.
    fn list_xattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(Vec::new())
    }
    /// Creates a FIFO, socket or device node; `mode` has the file type.
    fn mknod(&self, _name: &[u8], _mode: u32, _rdev: u64) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    /// Removes a non-directory (`dir == false`) or an empty directory.
    fn unlink(&self, _name: &[u8], _dir: bool) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }
    /// Adds `name` in this directory for the existing file `target` (same
    /// filesystem): a hard link.
    fn link(&self, _name: &[u8], _target: &std::sync::Arc<dyn Inode>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    /// Moves `old` in this directory to `new` in `new_dir` (same filesystem).
    fn rename(&self, _old: &[u8], _new_dir: &dyn Inode, _new: &[u8]) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }
    /// Changes attributes.
    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }
    /// For downcasting within a filesystem.
    fn as_any(&self) -> &dyn Any;
}
