//! Files backed by a host fd: files the gofer donated, and the sandbox's
//! stdio. Reads and writes go straight to the fd.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::errno::Errno;
use crate::mm::MemoryManager;
use crate::vfs::{FileOps, SetAttr, Stat, Timespec};

/// A host fd as an open file.
pub struct HostFile {
    /// Shared only by positioned (non-stream) readers of one file.
    fd: Arc<OwnedFd>,
    /// Streams (pipes, ttys, stdio) use the host's own position.
    stream: bool,
}

/// Size of the kernel's `struct termios` (not glibc's larger one).
const KERNEL_TERMIOS: usize = 36;

fn check(r: isize) -> Result<usize, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r as usize)
    }
}

/// Converts a host `stat`.
pub fn stat_from_host(st: &libc::stat) -> Stat {
    Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size,
        blksize: st.st_blksize,
        blocks: st.st_blocks,
        atime: Timespec {
            sec: st.st_atime,
            nsec: st.st_atime_nsec,
        },
        mtime: Timespec {
            sec: st.st_mtime,
            nsec: st.st_mtime_nsec,
        },
        ctime: Timespec {
            sec: st.st_ctime,
            nsec: st.st_ctime_nsec,
        },
    }
}

impl HostFile {
    /// Wraps `fd`; `stream` for fds without a position of our own.
    pub fn new(fd: OwnedFd, stream: bool) -> HostFile {
        HostFile {
            fd: Arc::new(fd),
            stream,
        }
    }

    /// A positioned file over an fd that other open files use too.
    pub fn shared(fd: Arc<OwnedFd>) -> HostFile {
        HostFile { fd, stream: false }
    }

    /// Wraps one of the sandbox's stdio fds: a stream unless it is a regular
    /// file, whose host position is shared with whoever opened it.
    pub fn stdio(fd: OwnedFd) -> HostFile {
        HostFile::new(fd, true)
    }

    fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl FileOps for HostFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        loop {
            // SAFETY: buf is valid for writes of its length.
            let r = unsafe {
                if self.stream {
                    libc::read(self.raw(), buf.as_mut_ptr().cast(), buf.len())
                } else {
                    libc::pread(self.raw(), buf.as_mut_ptr().cast(), buf.len(), off as i64)
                }
            };
            match check(r) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        loop {
            // SAFETY: buf is valid for reads of its length.
            let r = unsafe {
                if self.stream {
                    libc::write(self.raw(), buf.as_ptr().cast(), buf.len())
                } else {
                    libc::pwrite(self.raw(), buf.as_ptr().cast(), buf.len(), off as i64)
                }
            };
            match check(r) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    fn seekable(&self) -> bool {
        !self.stream
    }

    fn poll(&self) -> u32 {
        let mut pfd = libc::pollfd {
            fd: self.raw(),
            events: libc::POLLIN | libc::POLLOUT | libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        if unsafe { libc::poll(&mut pfd, 1, 0) } < 0 {
            return 0;
        }
        pfd.revents as u32
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // SAFETY: zeroed stat is valid; fstat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid out pointer.
        if unsafe { libc::fstat(self.raw(), &mut st) } != 0 {
            return Err(Errno::last());
        }
        Ok(stat_from_host(&st))
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &MemoryManager) -> Result<u64, Errno> {
        let mut buf = [0u8; 64];
        let (len, out) = match req {
            libc::TCGETS => (KERNEL_TERMIOS, true),
            libc::TCSETS | libc::TCSETSW | libc::TCSETSF => (KERNEL_TERMIOS, false),
            libc::TIOCGWINSZ => (8, true),
            libc::TIOCSWINSZ => (8, false),
            libc::FIONREAD => (4, true),
            _ => return Err(Errno::ENOTTY),
        };
        if !out {
            mm.copy_in(arg, &mut buf[..len])?;
        }
        // SAFETY: `buf` is larger than any of the structures above.
        let r = unsafe { libc::ioctl(self.raw(), req, buf.as_mut_ptr()) };
        if r < 0 {
            return Err(Errno::last());
        }
        if out {
            mm.copy_out(arg, &buf[..len])?;
        }
        Ok(r as u64)
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        if let Some(size) = attr.size {
            // SAFETY: plain ftruncate.
            if unsafe { libc::ftruncate(self.raw(), size as i64) } != 0 {
                return Err(Errno::last());
            }
        }
        if let Some(mode) = attr.mode {
            // SAFETY: plain fchmod.
            if unsafe { libc::fchmod(self.raw(), mode) } != 0 {
                return Err(Errno::last());
            }
        }
        Ok(())
    }

    fn fallocate(&self, mode: i32, off: u64, len: u64) -> Result<(), Errno> {
        // SAFETY: plain fallocate on our fd.
        if unsafe { libc::fallocate(self.raw(), mode, off as i64, len as i64) } != 0 {
            return Err(Errno::last());
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), Errno> {
        // SAFETY: plain fsync.
        if unsafe { libc::fsync(self.raw()) } != 0 {
            let e = Errno::last();
            if e != Errno::EINVAL {
                return Err(e);
            }
        }
        Ok(())
    }

    fn mappable(&self) -> bool {
        !self.stream
    }
}
