//! Open file descriptions: what an fd points to.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Dentry, DirEntry, SetAttr, Stat};
use crate::errno::Errno;
use crate::mm::{MapSource, MemoryManager};

/// The operations of an open file, implemented by each filesystem.
pub trait FileOps: Send + Sync + AsAny {
    /// Reads at `off` (ignored by stream files).
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// Writes at `off` (ignored by stream files and by files opened with
    /// O_APPEND on the host).
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// `read` for an open file with status `flags` (O_NONBLOCK matters to
    /// pipes and other streams).
    fn read_flags(&self, buf: &mut [u8], off: u64, _flags: i32) -> Result<usize, Errno> {
        self.read(buf, off)
    }
    /// `write` for an open file with status `flags`.
    fn write_flags(&self, buf: &[u8], off: u64, _flags: i32) -> Result<usize, Errno> {
        self.write(buf, off)
    }
    /// fallocate(2) on a regular file: `mode` 0 or FALLOC_FL_KEEP_SIZE
    /// reserve (and grow), FALLOC_FL_PUNCH_HOLE zeroes; the syscall has
    /// checked the arguments.
    fn fallocate(&self, _mode: i32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The seals of a memfd (F_GET_SEALS); None for files that cannot
    /// have any.
    fn seals(&self) -> Option<u32> {
        None
    }
    /// Adds seals to a memfd (F_ADD_SEALS); other files are sealed
    /// against seals (EPERM).
    fn add_seals(&self, _seals: u32) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    /// Reads without consuming (tee(2)); pipes only.
    fn peek(&self, _buf: &mut [u8], _flags: i32) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// A pipe's capacity, after setting it to `set` (F_SETPIPE_SZ);
    /// EBADF for anything but a pipe.
    fn pipe_size(&self, _set: Option<usize>) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    /// Whether the file has a position (regular files, directories).
    fn seekable(&self) -> bool {
        true
    }
    /// Attributes.
    fn stat(&self) -> Result<Stat, Errno>;
    /// Lists a directory, without "." and "..".
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Device-specific control; ENOTTY unless the file knows the request.
    fn ioctl(&self, _req: u64, _arg: u64, _mm: &MemoryManager) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }
    /// Changes attributes through the open file (ftruncate, fchmod...).
    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// Flushes to stable storage.
    fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }
    /// The poll events (POLLIN, POLLOUT, POLLHUP...) that are ready now.
    /// Regular files are always ready.
    fn poll(&self) -> u32 {
        (libc::POLLIN | libc::POLLOUT | libc::POLLRDNORM | libc::POLLWRNORM) as u32
    }
    /// The memory-file pages that hold the file and its size, for files
    /// whose MAP_SHARED mappings share pages with read/write (tmpfs).
    fn shared_pages(&self) -> Option<(Arc<crate::mm::MemRange>, usize)> {
        None
    }
    /// Whether mmap of this file is allowed.
    fn mappable(&self) -> bool {
        false
    }
}

/// Lets callers find the concrete type behind a `dyn FileOps` (epoll).
pub trait AsAny {
    /// Self as `Any`.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: std::any::Any> AsAny for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// An open directory of any filesystem: listing and attributes come from
/// its inode.
pub struct DirFile(pub Arc<dyn super::Inode>);

impl FileOps for DirFile {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.0.stat()
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.0.readdir()
    }
    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.0.setattr(attr)
    }
}

/// An open file description, shared by dup'ed fds.
pub struct File {
    /// The filesystem's implementation.
    pub ops: Box<dyn FileOps>,
    /// The name it was opened by (None for anonymous files like stdio).
    pub dentry: Option<Arc<Dentry>>,
    /// Status flags (O_ACCMODE, O_APPEND, O_NONBLOCK...).
    flags: AtomicI32,
    /// The file position.
    pub offset: Mutex<u64>,
    /// A snapshot of the directory listing for getdents, taken at offset 0.
    pub dir_snapshot: Mutex<Option<Arc<Vec<DirEntry>>>>,
    /// The file's lock key once a lock was taken through this description.
    lock_key: Mutex<Option<super::lock::Key>>,
}

impl File {
    /// A new description with `flags` from open(2).
    pub fn new(ops: Box<dyn FileOps>, dentry: Option<Arc<Dentry>>, flags: i32) -> Arc<File> {
        Arc::new(File {
            ops,
            dentry,
            flags: AtomicI32::new(
                flags
                    & !(libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_TRUNC
                        | libc::O_CLOEXEC
                        | libc::O_NOCTTY),
            ),
            offset: Mutex::new(0),
            dir_snapshot: Mutex::new(None),
            lock_key: Mutex::new(None),
        })
    }

    /// The file's identity for advisory locks (remembered, so that closing
    /// it can release its locks without asking the filesystem again).
    pub fn lock_key(&self) -> Result<super::lock::Key, Errno> {
        let mut k = self.lock_key.lock();
        if let Some(k) = *k {
            return Ok(k);
        }
        let st = self.ops.stat()?;
        *k = Some((st.dev, st.ino));
        Ok((st.dev, st.ino))
    }

    /// This description as a lock owner (flock, OFD locks).
    pub fn lock_owner(&self) -> usize {
        self as *const File as usize
    }

    /// Called when process `pid` closes an fd of this description: its
    /// POSIX locks on the file go, as on Linux.
    pub fn closed_by(&self, pid: i32) {
        if !super::lock::holds_records(pid) {
            return;
        }
        if let Ok(key) = self.lock_key() {
            super::lock::release_process_file(key, pid);
        }
    }

    /// Status flags.
    pub fn flags(&self) -> i32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change.
    pub fn set_flags(&self, flags: i32) {
        let settable =
            libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME;
        let old = self.flags();
        self.flags
            .store((old & !settable) | (flags & settable), Ordering::Relaxed);
    }

    /// Opened for reading.
    pub fn readable(&self) -> bool {
        let acc = self.flags() & libc::O_ACCMODE;
        (acc == libc::O_RDONLY || acc == libc::O_RDWR) && self.flags() & libc::O_PATH == 0
    }

    /// Opened for writing.
    pub fn writable(&self) -> bool {
        let acc = self.flags() & libc::O_ACCMODE;
        (acc == libc::O_WRONLY || acc == libc::O_RDWR) && self.flags() & libc::O_PATH == 0
    }

    /// Opened with O_PATH.
    pub fn is_path(&self) -> bool {
        self.flags() & libc::O_PATH != 0
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if let Some(key) = *self.lock_key.get_mut() {
            super::lock::release_file(key, self.lock_owner());
        }
        if let (Some(d), false) = (&self.dentry, self.is_path()) {
            let what = if self.writable() {
                libc::IN_CLOSE_WRITE
            } else {
                libc::IN_CLOSE_NOWRITE
            };
            crate::fs::inotify::dentry_event(d, what);
        }
    }
}

impl MapSource for File {
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.ops.read(buf, off)
    }
}
