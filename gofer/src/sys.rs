//! Thin wrappers over the host syscalls the server uses, so that the
//! `unsafe` lives in one place. Every path argument is a single, already
//! validated component or a `/proc/self/fd/N` name, never a client path.

use crate::{Error, Result, Stat, StatFs, Timespec};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

fn errno() -> Error {
    Error::Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

fn check(r: libc::c_int) -> Result<()> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

fn check_size(r: libc::ssize_t) -> Result<usize> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

/// The empty path, for `AT_EMPTY_PATH` calls.
pub const EMPTY: &CStr = c"";

/// Converts bytes to a C string; an interior NUL is `EINVAL`.
pub fn cstring(b: &[u8]) -> Result<CString> {
    CString::new(b).map_err(|_| Error::Errno(libc::EINVAL))
}

/// `openat(dir, name, flags, mode)`, retrying on `EINTR`.
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> Result<OwnedFd> {
    loop {
        // SAFETY: name is a valid NUL-terminated string; the fd returned, if
        // any, is new and owned by nobody else.
        let fd =
            unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode as libc::c_uint) };
        if fd >= 0 {
            // SAFETY: fd was just returned by openat.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let e = errno();
        if e.errno() != libc::EINTR {
            return Err(e);
        }
    }
}

/// `open(path, flags)` of an absolute path (only for the configured root).
pub fn open(path: &CStr, flags: i32) -> Result<OwnedFd> {
    // SAFETY: path is NUL-terminated; the fd returned is new.
    let fd = unsafe { libc::open(path.as_ptr(), flags) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: fd was just returned by open.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec { sec, nsec }
}

/// `fstatat(fd, name, flags)`.
// The casts are no-ops on x86_64 but not on every architecture.
#[allow(clippy::unnecessary_cast)]
pub fn fstatat(fd: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<Stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st is valid for writes of a `struct stat`; name is NUL-terminated.
    check(unsafe { libc::fstatat(fd.as_raw_fd(), name.as_ptr(), st.as_mut_ptr(), flags) })?;
    // SAFETY: fstatat succeeded, so st is initialized.
    let st = unsafe { st.assume_init() };
    Ok(Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink as u64,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size,
        blksize: st.st_blksize as i64,
        blocks: st.st_blocks,
        atime: ts(st.st_atime, st.st_atime_nsec),
        mtime: ts(st.st_mtime, st.st_mtime_nsec),
        ctime: ts(st.st_ctime, st.st_ctime_nsec),
    })
}

/// The stat of the file `fd` refers to itself (never following a symlink).
pub fn fstat(fd: BorrowedFd<'_>) -> Result<Stat> {
    fstatat(fd, EMPTY, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW)
}

/// `fstatfs(fd)` (works on `O_PATH` fds).
// The casts are no-ops on x86_64 but not on every architecture.
#[allow(clippy::unnecessary_cast)]
pub fn fstatfs(fd: BorrowedFd<'_>) -> Result<StatFs> {
    let mut st = std::mem::MaybeUninit::<libc::statfs64>::uninit();
    // SAFETY: st is valid for writes of a `struct statfs64`.
    check(unsafe { libc::fstatfs64(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstatfs succeeded.
    let st = unsafe { st.assume_init() };
    Ok(StatFs {
        fs_type: st.f_type as i64,
        bsize: st.f_bsize as i64,
        blocks: st.f_blocks as u64,
        bfree: st.f_bfree as u64,
        bavail: st.f_bavail as u64,
        files: st.f_files as u64,
        ffree: st.f_ffree as u64,
        namelen: st.f_namelen as i64,
        frsize: st.f_frsize as i64,
        flags: st.f_flags as i64,
    })
}

/// The target of the symlink `fd` (an `O_PATH` fd of the link itself).
pub fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = check_size(unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })?;
    buf.truncate(n);
    Ok(buf)
}

/// `mkdirat`.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
}

/// `mknodat`.
pub fn mknodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32, rdev: u64) -> Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, rdev) })
}

/// `symlinkat`.
pub fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
}

/// `linkat`.
pub fn linkat(
    olddir: BorrowedFd<'_>,
    oldname: &CStr,
    newdir: BorrowedFd<'_>,
    newname: &CStr,
    flags: i32,
) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe {
        libc::linkat(
            olddir.as_raw_fd(),
            oldname.as_ptr(),
            newdir.as_raw_fd(),
            newname.as_ptr(),
            flags,
        )
    })
}

/// `unlinkat`.
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

/// `renameat2` (by raw syscall, independent of the libc version).
pub fn renameat2(
    olddir: BorrowedFd<'_>,
    oldname: &CStr,
    newdir: BorrowedFd<'_>,
    newname: &CStr,
    flags: u32,
) -> Result<()> {
    // SAFETY: both strings are NUL-terminated; the syscall takes exactly
    // these five arguments.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            olddir.as_raw_fd(),
            oldname.as_ptr(),
            newdir.as_raw_fd(),
            newname.as_ptr(),
            flags,
        )
    };
    check(r as libc::c_int)
}

/// `fchownat`; `u32::MAX` leaves an id unchanged.
pub fn fchownat(fd: BorrowedFd<'_>, name: &CStr, uid: u32, gid: u32, flags: i32) -> Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::fchownat(fd.as_raw_fd(), name.as_ptr(), uid, gid, flags) })
}

/// `fchmodat` (follows `name`; only used on `/proc/self/fd/N` of non-symlinks).
pub fn fchmodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) })
}

/// `fchmod` of an open (non-`O_PATH`) fd.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode) })
}

/// `utimensat(dir, name, times, flags)`.
pub fn utimensat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    times: &[libc::timespec; 2],
    flags: i32,
) -> Result<()> {
    // SAFETY: name is NUL-terminated and times points at two timespecs.
    check(unsafe { libc::utimensat(dir.as_raw_fd(), name.as_ptr(), times.as_ptr(), flags) })
}

/// `ftruncate`.
pub fn ftruncate(fd: BorrowedFd<'_>, size: i64) -> Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), size) })
}

/// `lseek(fd, off, SEEK_SET)`.
pub fn seek(fd: BorrowedFd<'_>, off: i64) -> Result<()> {
    // SAFETY: plain syscall on a valid fd.
    let r = unsafe { libc::lseek(fd.as_raw_fd(), off, libc::SEEK_SET) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// One `getdents64` into `buf`; returns the bytes filled (0 at the end).
pub fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            fd.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    check_size(r as libc::ssize_t)
}

/// `getxattr(path, name)` into `buf`.
pub fn getxattr(path: &CStr, name: &CStr, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: strings are NUL-terminated, buf valid for its length.
    check_size(unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })
}

/// `setxattr(path, name, value, flags)`.
pub fn setxattr(path: &CStr, name: &CStr, value: &[u8], flags: i32) -> Result<()> {
    // SAFETY: strings are NUL-terminated, value valid for its length.
    check(unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })
}

/// `listxattr(path)` into `buf`.
pub fn listxattr(path: &CStr, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: path is NUL-terminated, buf valid for its length.
    check_size(unsafe { libc::listxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })
}

/// `removexattr(path, name)`.
pub fn removexattr(path: &CStr, name: &CStr) -> Result<()> {
    // SAFETY: strings are NUL-terminated.
    check(unsafe { libc::removexattr(path.as_ptr(), name.as_ptr()) })
}
