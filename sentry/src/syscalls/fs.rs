//! File syscalls: open, read, write, stat, directories, fds.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::fs::inotify;
use crate::kernel::task::Task;
use crate::mm::Plain;
use crate::vfs::path::PATH_MAX;
use crate::vfs::{Dentry, DirEntry, File, FileOps, SetAttr, Stat, Timespec};

/// Linux's MAX_RW_COUNT: the most one read or write transfers.
pub(super) const MAX_RW: u64 = 0x7fff_f000;

/// The kernel's O_LARGEFILE, which x86-64 Linux sets on every open file
/// (the libc crate's constant is 0 there).
const O_LARGEFILE: i32 = 0o100000;

/// Reads a path argument.
pub fn path_arg(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    t.mm.read_cstr(addr, PATH_MAX - 1)
}

/// The directory a `*at` call starts from.
fn start_dir(t: &Task, dirfd: i32) -> Result<Arc<Dentry>, Errno> {
    if dirfd == libc::AT_FDCWD {
        return Ok(t.cwd.clone());
    }
    let f = t.fds.get(dirfd)?;
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    if !d.inode.stat()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(d)
}

/// What a path-or-fd argument names.
pub(super) enum Target {
    Dentry(Arc<Dentry>),
    File(Arc<File>),
}

impl Target {
    fn stat(&self) -> Result<Stat, Errno> {
        match self {
            Target::Dentry(d) => d.inode.stat(),
            Target::File(f) => f.ops.stat(),
        }
    }
}

/// Resolves `(dirfd, path)` with AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH.
pub(super) fn resolve_at(
    t: &Task,
    dirfd: i32,
    path_addr: u64,
    flags: i32,
) -> Result<Target, Errno> {
    let path = path_arg(t, path_addr)?;
    if path.is_empty() {
        if flags & libc::AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == libc::AT_FDCWD {
            return Ok(Target::Dentry(t.cwd.clone()));
        }
        return Ok(Target::File(t.fds.get(dirfd)?));
    }
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
    let start = if path[0] == b'/' {
        t.cwd.clone()
    } else {
        start_dir(t, dirfd)?
    };
    let walker = crate::vfs::path::Walker {
        root: &t.root,
        start: &start,
        rules: Default::default(),
    };
    Ok(Target::Dentry(walker.walk(&path, follow)?))
}

/// Resolves the parent of `(dirfd, path)` for calls that create or remove.
fn resolve_parent(
    t: &Task,
    dirfd: i32,
    path_addr: u64,
) -> Result<(Arc<Dentry>, Vec<u8>, bool), Errno> {
    let path = path_arg(t, path_addr)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let start = if path[0] == b'/' {
        t.cwd.clone()
    } else {
        start_dir(t, dirfd)?
    };
    crate::vfs::path::Walker {
        root: &t.root,
        start: &start,
        rules: Default::default(),
    }
    .walk_parent(&path)
}

/// May the task access a file with `stat` for `mask` (R_OK|W_OK|X_OK)?
pub(super) fn may_access(t: &Task, st: &Stat, mask: u32, real: bool) -> bool {
    let uid = if real { t.creds.uid } else { t.creds.euid };
    let gid = if real { t.creds.gid } else { t.creds.egid };
    if uid == 0 {
        return mask & 1 == 0 || st.is_dir() || st.mode & 0o111 != 0;
    }
    let bits = if st.uid == uid {
        (st.mode >> 6) & 7
    } else if st.gid == gid || t.creds.groups.contains(&st.gid) {
        (st.mode >> 3) & 7
    } else {
        st.mode & 7
    };
    bits & mask == mask
}

/// Whether the caller may add entries to directory `dir` (write and
/// search permission); EACCES if not.
fn may_create(t: &Task, dir: &Dentry) -> Result<(), Errno> {
    if may_access(t, &dir.inode.stat()?, 3, false) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// Whether the caller may remove or rename `child` of `dir`: write and
/// search permission on `dir` (EACCES), and in a sticky directory it must
/// own the directory or the entry, or be root (EPERM).
fn may_delete(t: &Task, dir: &Dentry, child: &Dentry) -> Result<(), Errno> {
    let dst = dir.inode.stat()?;
    if !may_access(t, &dst, 3, false) {
        return Err(Errno::EACCES);
    }
    let euid = t.creds.euid;
    if dst.mode & libc::S_ISVTX != 0
        && euid != 0
        && euid != dst.uid
        && child.inode.stat()?.uid != euid
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Gives a name just created in `parent` its owner: the caller's
/// effective ids, or the directory's group when the directory is set-gid
/// (a new directory there is set-gid too), as Linux does.
fn own_new(t: &Task, parent: &Dentry, d: &Dentry) -> Result<(), Errno> {
    let pst = parent.inode.stat()?;
    let setgid_dir = pst.mode & libc::S_ISGID != 0;
    let gid = if setgid_dir { pst.gid } else { t.creds.egid };
    let st = d.inode.stat()?;
    let mode = (setgid_dir && st.is_dir()).then_some((st.mode & 0o7777) | libc::S_ISGID);
    if st.uid == t.creds.euid && st.gid == gid && mode.is_none() {
        return Ok(());
    }
    d.inode.setattr(&SetAttr {
        uid: Some(t.creds.euid),
        gid: Some(gid),
        mode,
        ..SetAttr::default()
    })
}

/// An O_PATH file: no I/O, only a name.
struct PathFile(Arc<Dentry>);

impl FileOps for PathFile {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.0.inode.stat()
    }
}

fn do_open(t: &mut Task, dirfd: i32, path_addr: u64, flags: i32, mode: u32) -> SysResult {
    do_open_how(t, dirfd, path_addr, flags, mode, 0)
}

/// RESOLVE_* flags of openat2.
const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
const RESOLVE_IN_ROOT: u64 = 0x10;
const RESOLVE_CACHED: u64 = 0x20;

/// open with openat2's `resolve` restrictions (0 for open/openat).
fn do_open_how(
    t: &mut Task,
    dirfd: i32,
    path_addr: u64,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> SysResult {
    let path = path_arg(t, path_addr)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let in_root = resolve & RESOLVE_IN_ROOT != 0;
    let start = if path[0] == b'/' && !in_root {
        t.cwd.clone()
    } else {
        start_dir(t, dirfd)?
    };
    let walker = crate::vfs::path::Walker {
        root: if in_root { &start } else { &t.root },
        start: &start,
        rules: crate::vfs::path::Rules {
            beneath: resolve & RESOLVE_BENEATH != 0,
            // /proc's magic links (fd/N, exe, cwd) are plain symlinks
            // here, resolved by path inside the sandbox: RESOLVE_NO_MAGICLINKS
            // has nothing more to refuse.
            no_symlinks: resolve & RESOLVE_NO_SYMLINKS != 0,
            no_xdev: resolve & RESOLVE_NO_XDEV != 0,
        },
    };
    let follow = flags & libc::O_NOFOLLOW == 0;
    let tmpfile = flags & libc::O_TMPFILE & !libc::O_DIRECTORY != 0;
    if tmpfile {
        return Err(Errno::EOPNOTSUPP);
    }
    // A file this open creates is not checked against its own mode.
    let mut created = false;
    let dentry = if flags & libc::O_CREAT != 0 {
        let (parent, name, trailing) = walker.walk_parent(&path)?;
        if name == b"." || name == b".." || trailing {
            return Err(Errno::EISDIR);
        }
        match parent.child(&name) {
            Ok(d) => {
                if flags & libc::O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                if d.inode.stat()?.is_symlink() {
                    if !follow {
                        return Err(Errno::ELOOP);
                    }
                    walker.walk(&path, true)?
                } else {
                    d
                }
            }
            Err(Errno::ENOENT) => {
                let pst = parent.inode.stat()?;
                if !may_access(t, &pst, 3, false) {
                    return Err(Errno::EACCES);
                }
                parent.inode.create(&name, mode & !t.umask & 0o7777)?;
                inotify::dir_event(&parent, &name, libc::IN_CREATE, false, 0);
                let d = parent.child(&name)?;
                own_new(t, &parent, &d)?;
                created = true;
                d
            }
            Err(e) => return Err(e),
        }
    } else {
        walker.walk(&path, follow)?
    };
    let st = dentry.inode.stat()?;
    if flags & libc::O_PATH != 0 {
        if flags & libc::O_DIRECTORY != 0 && !st.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let f = File::new(Box::new(PathFile(dentry.clone())), Some(dentry), flags);
        return t
            .fds
            .insert(f, flags & libc::O_CLOEXEC != 0)
            .map(|fd| fd as u64);
    }
    if st.is_symlink() {
        return Err(Errno::ELOOP);
    }
    let acc = flags & libc::O_ACCMODE;
    if flags & libc::O_DIRECTORY != 0 && !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if st.is_dir() && (acc != libc::O_RDONLY || flags & libc::O_CREAT != 0) {
        return Err(Errno::EISDIR);
    }
    if acc == 3 {
        return Err(Errno::EINVAL);
    }
    let mask = match acc {
        libc::O_RDONLY => 4,
        libc::O_WRONLY => 2,
        _ => 6,
    } | if flags & libc::O_TRUNC != 0 { 2 } else { 0 };
    if !created && !may_access(t, &st, mask & 6, false) {
        return Err(Errno::EACCES);
    }
    let ops = dentry.inode.clone().open(flags)?;
    inotify::dentry_event(&dentry, libc::IN_OPEN);
    if flags & libc::O_TRUNC != 0 && st.is_reg() {
        inotify::dentry_event(&dentry, libc::IN_MODIFY);
    }
    let f = File::new(ops, Some(dentry), flags | O_LARGEFILE);
    t.fds
        .insert(f, flags & libc::O_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

pub fn open(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_open(t, libc::AT_FDCWD, a[0], a[1] as i32, a[2] as u32)
}

pub fn openat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_open(t, a[0] as i32, a[1], a[2] as i32, a[3] as u32)
}

/// openat2(dirfd, path, struct open_how *, size).
pub fn openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const VER0: u64 = 24;
    let (how, size) = (a[2], a[3]);
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let fields: [u64; 3] = [
        t.mm.read_obj(how)?,
        t.mm.read_obj(how + 8)?,
        t.mm.read_obj(how + 16)?,
    ];
    if size > VER0 {
        let mut rest = vec![0u8; (size - VER0) as usize];
        t.mm.copy_in(how + VER0, &mut rest)?;
        if rest.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let [flags, mode, resolve] = fields;
    const VALID_FLAGS: u64 = 0o37777703;
    let creates = flags & (libc::O_CREAT | libc::O_TMPFILE) as u64 != 0;
    if flags & !VALID_FLAGS != 0
        || (!creates && mode != 0)
        || mode & !0o7777 != 0
        || resolve
            & !(RESOLVE_NO_XDEV
                | RESOLVE_NO_MAGICLINKS
                | RESOLVE_NO_SYMLINKS
                | RESOLVE_BENEATH
                | RESOLVE_IN_ROOT
                | RESOLVE_CACHED)
            != 0
        || (resolve & RESOLVE_BENEATH != 0 && resolve & RESOLVE_IN_ROOT != 0)
    {
        return Err(Errno::EINVAL);
    }
    if resolve & RESOLVE_CACHED != 0
        && flags & (libc::O_TRUNC | libc::O_CREAT | libc::O_TMPFILE) as u64 != 0
    {
        return Err(Errno::EAGAIN);
    }
    do_open_how(t, a[0] as i32, a[1], flags as i32, mode as u32, resolve)
}

pub fn creat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;
    do_open(t, libc::AT_FDCWD, a[0], flags, a[1] as u32)
}

pub fn close(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.remove(a[0] as i32)?.closed_by(t.pid);
    Ok(0)
}

pub fn close_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2] as u32);
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
    if flags & !(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let last = last.min(crate::vfs::fdtable::NOFILE as u32);
    for fd in first..=last {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            let _ = t.fds.set_cloexec(fd as i32, true);
        } else if let Ok(f) = t.fds.remove(fd as i32) {
            f.closed_by(t.pid);
        }
    }
    Ok(0)
}

/// Which way a transfer goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// From the file into application memory.
    Read,
    /// From application memory into the file.
    Write,
}

/// Moves up to `count` bytes between application memory at `buf` and `f`,
/// straight through the memory file's mapping; `pos` None uses (and
/// advances) the file offset. O_APPEND writes go to the end.
fn transfer(t: &Task, f: &File, buf: u64, count: u64, pos: Option<u64>, dir: Dir) -> SysResult {
    let allowed = match dir {
        Dir::Read => f.readable(),
        Dir::Write => f.writable(),
    };
    if !allowed {
        return Err(Errno::EBADF);
    }
    let count = count.min(MAX_RW) as usize;
    if count == 0 {
        return Ok(0);
    }
    let (chunks, _) = t.mm.chunks(buf, count, dir == Dir::Read);
    if chunks.is_empty() {
        return Err(Errno::EFAULT);
    }
    let seekable = f.ops.seekable();
    let flags = f.flags();
    let mut offset = f.offset.lock();
    let append = dir == Dir::Write && seekable && flags & libc::O_APPEND != 0;
    let start = match pos {
        _ if append => f.ops.stat()?.size as u64,
        Some(p) => p,
        None if seekable => *offset,
        None => 0,
    };
    // RLIMIT_FSIZE: a regular file grows no further (SIGXFSZ and EFBIG
    // when nothing at all can be written).
    let mut room = u64::MAX;
    let fsize = t.rlimits[libc::RLIMIT_FSIZE as usize].0;
    if dir == Dir::Write && fsize != u64::MAX && f.ops.stat()?.is_reg() {
        if start >= fsize {
            t.handle.send(crate::kernel::signal::SigInfo::new(
                libc::SIGXFSZ,
                libc::SI_USER,
            ));
            return Err(Errno::EFBIG);
        }
        room = fsize - start;
    }
    let mut total = 0u64;
    if !seekable && chunks.len() > 1 {
        // A stream (pipe, socket, tty) gets whole windows through a bounce
        // buffer: piece by piece, a reader would wake for every page and a
        // read would stop at the first page.
        const WINDOW: usize = 1 << 20;
        let len: usize = chunks
            .iter()
            .map(|c| c.len)
            .sum::<usize>()
            .min(room as usize);
        let mut bounce = vec![0u8; len.min(WINDOW)];
        // Application memory as (chunk, offset in it) positions.
        let mut at = (0usize, 0usize);
        let mut copy = |bounce: &mut [u8], n: usize, into_app: bool| {
            let mut done = 0;
            while done < n && at.0 < chunks.len() {
                let c = &chunks[at.0];
                let m = (c.len - at.1).min(n - done);
                if into_app {
                    c.as_mut_slice()[at.1..at.1 + m].copy_from_slice(&bounce[done..done + m]);
                } else {
                    bounce[done..done + m].copy_from_slice(&c.as_slice()[at.1..at.1 + m]);
                }
                done += m;
                at.1 += m;
                if at.1 == c.len {
                    at = (at.0 + 1, 0);
                }
            }
        };
        match dir {
            Dir::Read => {
                let n = f.ops.read_flags(&mut bounce, start, flags)?;
                copy(&mut bounce, n, true);
                total = n as u64;
            }
            Dir::Write => {
                while (total as usize) < len {
                    let w = bounce.len().min(len - total as usize);
                    copy(&mut bounce, w, false);
                    match f.ops.write_flags(&bounce[..w], start, flags) {
                        Ok(n) => {
                            total += n as u64;
                            if n < w {
                                break;
                            }
                        }
                        Err(e) if total == 0 => return Err(e),
                        Err(_) => break,
                    }
                }
            }
        }
    } else {
        for c in &chunks {
            let left = room - total;
            if left == 0 {
                break;
            }
            let c_slice = |s: &[u8]| -> usize { s.len().min(left.min(usize::MAX as u64) as usize) };
            let r = match dir {
                Dir::Read => f.ops.read_flags(c.as_mut_slice(), start + total, flags),
                Dir::Write => {
                    let s = c.as_slice();
                    f.ops.write_flags(&s[..c_slice(s)], start + total, flags)
                }
            };
            match r {
                Ok(n) => {
                    total += n as u64;
                    if n < c.len {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
            // A stream read returns what one read gave (no waiting for more).
            if dir == Dir::Read && !seekable {
                break;
            }
        }
    }
    if pos.is_none() && seekable {
        *offset = start + total;
    }
    if let (Some(d), true) = (&f.dentry, total > 0) {
        let what = match dir {
            Dir::Read => libc::IN_ACCESS,
            Dir::Write => libc::IN_MODIFY,
        };
        inotify::dentry_event(d, what);
    }
    Ok(total)
}

pub fn read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    transfer(t, &f, a[1], a[2], None, Dir::Read)
}

/// A write to a pipe nobody reads raises SIGPIPE as well as EPIPE.
fn sigpipe_on_epipe(t: &mut Task, r: SysResult) -> SysResult {
    if r == Err(Errno::EPIPE) {
        let info =
            crate::kernel::signal::SigInfo::user(libc::SIGPIPE, libc::SI_USER, t.pid, t.creds.uid);
        t.handle.send(info);
    }
    r
}

pub fn write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let r = transfer(t, &f, a[1], a[2], None, Dir::Write);
    sigpipe_on_epipe(t, r)
}

fn positional(f: &File, off: u64) -> Result<u64, Errno> {
    if (off as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    Ok(off)
}

pub fn pread64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let off = positional(&f, a[3])?;
    transfer(t, &f, a[1], a[2], Some(off), Dir::Read)
}

pub fn pwrite64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let off = positional(&f, a[3])?;
    transfer(t, &f, a[1], a[2], Some(off), Dir::Write)
}

/// Reads an iovec array.
fn iovecs(t: &Task, addr: u64, cnt: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if cnt > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::with_capacity(cnt as usize);
    let mut total: u64 = 0;
    for i in 0..cnt {
        let v: [u64; 2] = t.mm.read_obj(addr + i * 16)?;
        if (v[1] as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        total = total.checked_add(v[1]).ok_or(Errno::EINVAL)?;
        if total > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        out.push((v[0], v[1]));
    }
    Ok(out)
}

pub(super) fn vectored(
    t: &Task,
    fd: u64,
    iov: u64,
    cnt: u64,
    pos: Option<u64>,
    write: bool,
) -> SysResult {
    let f = t.fds.get(fd as i32)?;
    if write && !f.writable() || !write && !f.readable() {
        return Err(Errno::EBADF);
    }
    let pos = match pos {
        Some(p) => Some(positional(&f, p)?),
        None => None,
    };
    let vecs = iovecs(t, iov, cnt)?;
    let mut total = 0u64;
    for (base, len) in vecs {
        if len == 0 {
            continue;
        }
        let p = pos.map(|p| p + total);
        let dir = if write { Dir::Write } else { Dir::Read };
        let r = transfer(t, &f, base, len, p, dir);
        match r {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

pub fn readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    vectored(t, a[0], a[1], a[2], None, false)
}

pub fn writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let r = vectored(t, a[0], a[1], a[2], None, true);
    sigpipe_on_epipe(t, r)
}

pub fn preadv(t: &mut Task, a: [u64; 6]) -> SysResult {
    vectored(t, a[0], a[1], a[2], Some(a[3]), false)
}

pub fn pwritev(t: &mut Task, a: [u64; 6]) -> SysResult {
    vectored(t, a[0], a[1], a[2], Some(a[3]), true)
}

pub fn lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let (off, whence) = (a[1] as i64, a[2] as i32);
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let mut cur = f.offset.lock();
    let new = match whence {
        libc::SEEK_SET => off,
        libc::SEEK_CUR => (*cur as i64).checked_add(off).ok_or(Errno::EOVERFLOW)?,
        libc::SEEK_END => f
            .ops
            .stat()?
            .size
            .checked_add(off)
            .ok_or(Errno::EOVERFLOW)?,
        libc::SEEK_DATA | libc::SEEK_HOLE => {
            let size = f.ops.stat()?.size;
            if off < 0 || off >= size {
                return Err(Errno::ENXIO);
            }
            if whence == libc::SEEK_DATA {
                off
            } else {
                size
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    if new == 0 {
        *f.dir_snapshot.lock() = None;
    }
    *cur = new as u64;
    Ok(new as u64)
}

fn to_host_stat(s: &Stat) -> libc::stat {
    let mut st: libc::stat = Plain::zeroed();
    st.st_dev = s.dev;
    st.st_ino = s.ino;
    st.st_mode = s.mode;
    st.st_nlink = s.nlink;
    st.st_uid = s.uid;
    st.st_gid = s.gid;
    st.st_rdev = s.rdev;
    st.st_size = s.size;
    st.st_blksize = s.blksize;
    st.st_blocks = s.blocks;
    st.st_atime = s.atime.sec;
    st.st_atime_nsec = s.atime.nsec;
    st.st_mtime = s.mtime.sec;
    st.st_mtime_nsec = s.mtime.nsec;
    st.st_ctime = s.ctime.sec;
    st.st_ctime_nsec = s.ctime.nsec;
    st
}

fn write_stat(t: &Task, addr: u64, s: &Stat) -> SysResult {
    t.mm.write_obj(addr, &to_host_stat(s))?;
    Ok(0)
}

pub fn stat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = resolve_at(t, libc::AT_FDCWD, a[0], 0)?.stat()?;
    write_stat(t, a[1], &s)
}

pub fn lstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = resolve_at(t, libc::AT_FDCWD, a[0], libc::AT_SYMLINK_NOFOLLOW)?.stat()?;
    write_stat(t, a[1], &s)
}

pub fn fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = t.fds.get(a[0] as i32)?.ops.stat()?;
    write_stat(t, a[1], &s)
}

pub fn newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] as i32;
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let s = resolve_at(t, a[0] as i32, a[1], flags)?.stat()?;
    write_stat(t, a[2], &s)
}

pub fn statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, flags, mask, buf) = (a[0] as i32, a[2] as i32, a[3] as u32, a[4]);
    let allowed = libc::AT_SYMLINK_NOFOLLOW
        | libc::AT_EMPTY_PATH
        | libc::AT_NO_AUTOMOUNT
        | libc::AT_STATX_SYNC_TYPE;
    if flags & !allowed != 0
        || flags & libc::AT_STATX_SYNC_TYPE == libc::AT_STATX_SYNC_TYPE
        || mask & libc::STATX__RESERVED as u32 != 0
    {
        return Err(Errno::EINVAL);
    }
    let s = resolve_at(t, dirfd, a[1], flags)?.stat()?;
    let mut x: libc::statx = Plain::zeroed();
    x.stx_mask = libc::STATX_BASIC_STATS;
    x.stx_blksize = s.blksize as u32;
    x.stx_nlink = s.nlink as u32;
    x.stx_uid = s.uid;
    x.stx_gid = s.gid;
    x.stx_mode = s.mode as u16;
    x.stx_ino = s.ino;
    x.stx_size = s.size as u64;
    x.stx_blocks = s.blocks as u64;
    let ts = |t: Timespec| {
        let mut x: libc::statx_timestamp = Plain::zeroed();
        x.tv_sec = t.sec;
        x.tv_nsec = t.nsec as u32;
        x
    };
    x.stx_atime = ts(s.atime);
    x.stx_mtime = ts(s.mtime);
    x.stx_ctime = ts(s.ctime);
    x.stx_rdev_major = libc::major(s.rdev);
    x.stx_rdev_minor = libc::minor(s.rdev);
    x.stx_dev_major = libc::major(s.dev);
    x.stx_dev_minor = libc::minor(s.dev);
    t.mm.write_obj(buf, &x)?;
    Ok(0)
}

fn do_readlink(t: &mut Task, dirfd: i32, path: u64, buf: u64, size: u64) -> SysResult {
    if (size as i64) <= 0 {
        return Err(Errno::EINVAL);
    }
    let target = match resolve_at(t, dirfd, path, libc::AT_SYMLINK_NOFOLLOW)? {
        Target::Dentry(d) => d.inode.readlink()?,
        Target::File(_) => return Err(Errno::EINVAL),
    };
    let n = target.len().min(size as usize);
    t.mm.copy_out(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_readlink(t, libc::AT_FDCWD, a[0], a[1], a[2])
}

pub fn readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_readlink(t, a[0] as i32, a[1], a[2], a[3])
}

fn do_access(t: &mut Task, dirfd: i32, path: u64, mode: u64, flags: i32) -> SysResult {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let st = resolve_at(t, dirfd, path, flags)?.stat()?;
    if !may_access(t, &st, mode as u32, flags & libc::AT_EACCESS == 0) {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

pub fn access(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, libc::AT_FDCWD, a[0], a[1], 0)
}

pub fn faccessat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, a[0] as i32, a[1], a[2], 0)
}

pub fn faccessat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, a[0] as i32, a[1], a[2], a[3] as i32)
}

/// The directory listing behind a getdents cursor, with "." and "..".
fn dir_entries(f: &File) -> Result<Arc<Vec<DirEntry>>, Errno> {
    let mut snap = f.dir_snapshot.lock();
    if let Some(s) = snap.as_ref() {
        return Ok(s.clone());
    }
    let entries = f.ops.readdir()?;
    let self_ino = f.ops.stat()?.ino;
    let parent_ino = f
        .dentry
        .as_ref()
        .and_then(|d| d.parent.clone())
        .and_then(|p| p.inode.stat().ok())
        .map_or(self_ino, |s| s.ino);
    let mut all = Vec::with_capacity(entries.len() + 2);
    all.push(DirEntry {
        name: b".".to_vec(),
        ino: self_ino,
        kind: libc::DT_DIR,
    });
    all.push(DirEntry {
        name: b"..".to_vec(),
        ino: parent_ino,
        kind: libc::DT_DIR,
    });
    all.extend(entries);
    let all = Arc::new(all);
    *snap = Some(all.clone());
    Ok(all)
}

fn do_getdents(t: &mut Task, a: [u64; 6], wide: bool) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    let (buf, count) = (a[1], a[2] as usize);
    let entries = dir_entries(&f)?;
    let mut off = f.offset.lock();
    let mut out: Vec<u8> = Vec::with_capacity(count.min(65536));
    let mut idx = *off as usize;
    while idx < entries.len() {
        let e = &entries[idx];
        let rec = if wide {
            (19 + e.name.len() + 1 + 7) & !7
        } else {
            (18 + e.name.len() + 2 + 7) & !7
        };
        if out.len() + rec > count {
            break;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&((idx + 1) as u64).to_le_bytes());
        out.extend_from_slice(&(rec as u16).to_le_bytes());
        if wide {
            out.push(e.kind);
            out.extend_from_slice(&e.name);
            out.resize(start + rec, 0);
        } else {
            out.extend_from_slice(&e.name);
            out.resize(start + rec, 0);
            out[start + rec - 1] = e.kind;
        }
        idx += 1;
    }
    if out.is_empty() && idx < entries.len() {
        return Err(Errno::EINVAL);
    }
    t.mm.copy_out(buf, &out)?;
    *off = idx as u64;
    Ok(out.len() as u64)
}

pub fn getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_getdents(t, a, true)
}

pub fn getdents(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_getdents(t, a, false)
}

pub fn getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (mut path, reachable) = t.cwd.path_from(Some(&t.root));
    if !reachable {
        path.splice(0..0, b"(unreachable)".iter().copied());
    }
    path.push(0);
    if (a[1] as usize) < path.len() {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out(a[0], &path)?;
    Ok(path.len() as u64)
}

fn set_cwd(t: &mut Task, d: Arc<Dentry>) -> SysResult {
    let st = d.inode.stat()?;
    if !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !may_access(t, &st, 1, false) {
        return Err(Errno::EACCES);
    }
    t.set_cwd(d);
    t.publish_info();
    Ok(0)
}

pub fn chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    match resolve_at(t, libc::AT_FDCWD, a[0], 0)? {
        Target::Dentry(d) => set_cwd(t, d),
        Target::File(_) => Err(Errno::ENOTDIR),
    }
}

/// memfd_create(name, flags): an anonymous tmpfs file.
pub fn memfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MFD_CLOEXEC: u32 = 1;
    const MFD_ALLOW_SEALING: u32 = 2;
    const MFD_HUGETLB: u32 = 4;
    const MFD_NOEXEC_SEAL: u32 = 8;
    const MFD_EXEC: u32 = 0x10;
    let flags = a[1] as u32;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC) != 0
        || flags & MFD_HUGETLB != 0
        || (flags & MFD_NOEXEC_SEAL != 0 && flags & MFD_EXEC != 0)
    {
        return Err(Errno::EINVAL);
    }
    // Names are at most 249 bytes ("memfd:" and the name fit NAME_MAX).
    let name = t.mm.read_cstr(a[0], 250).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    if name.len() > 249 {
        return Err(Errno::EINVAL);
    }
    let (mode, seals) = if flags & MFD_NOEXEC_SEAL != 0 {
        (0o666, 0x20)
    } else if flags & MFD_ALLOW_SEALING != 0 {
        (0o777, 0)
    } else {
        (0o777, libc::F_SEAL_SEAL as u32)
    };
    let inode = crate::fs::tmpfs::TmpfsInode::new_memfd(mode, seals)?;
    let ops = crate::fs::tmpfs::open(&inode, libc::O_RDWR)?;
    let f = File::new(ops, None, libc::O_RDWR | O_LARGEFILE);
    t.fds
        .insert(f, flags & MFD_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

/// fallocate(2): reserve, grow or punch holes in a regular file.
pub fn fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (mode, off, len) = (a[1] as i32, a[2] as i64, a[3] as i64);
    let f = t.fds.get(a[0] as i32)?;
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let known = libc::FALLOC_FL_KEEP_SIZE | libc::FALLOC_FL_PUNCH_HOLE;
    if mode & !known != 0
        || (mode & libc::FALLOC_FL_PUNCH_HOLE != 0 && mode & libc::FALLOC_FL_KEEP_SIZE == 0)
    {
        return Err(Errno::EOPNOTSUPP);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let st = f.ops.stat()?;
    match st.file_type() {
        libc::S_IFIFO => return Err(Errno::ESPIPE),
        libc::S_IFDIR => return Err(Errno::EISDIR),
        libc::S_IFREG => {}
        _ => return Err(Errno::ENODEV),
    }
    let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
    let fsize = t.rlimits[libc::RLIMIT_FSIZE as usize].0;
    if mode & libc::FALLOC_FL_KEEP_SIZE == 0 && end as u64 > fsize {
        t.handle.send(crate::kernel::signal::SigInfo::new(
            libc::SIGXFSZ,
            libc::SI_USER,
        ));
        return Err(Errno::EFBIG);
    }
    f.ops.fallocate(mode, off as u64, len as u64).map(|_| 0)
}

/// chroot(2): the calling task's root for path walks (`..` stops there).
/// Needs the privilege of root, as CAP_SYS_CHROOT.
pub fn chroot(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = match resolve_at(t, libc::AT_FDCWD, a[0], 0)? {
        Target::Dentry(d) => d,
        Target::File(_) => return Err(Errno::ENOTDIR),
    };
    let st = d.inode.stat()?;
    if !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !may_access(t, &st, 1, false) {
        return Err(Errno::EACCES);
    }
    if t.creds.euid != 0 {
        return Err(Errno::EPERM);
    }
    t.root = d;
    Ok(0)
}

pub fn fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    set_cwd(t, d)
}

pub fn dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    t.fds.insert(f, false).map(|fd| fd as u64)
}

fn nofile(t: &Task) -> u64 {
    t.rlimits[libc::RLIMIT_NOFILE as usize].0
}

fn do_dup3(t: &mut Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = t.fds.get(old)?;
    if new < 0 || new as u64 >= nofile(t) {
        return Err(Errno::EBADF);
    }
    if let Some(old) = t.fds.set(new, f, cloexec) {
        old.closed_by(t.pid);
    }
    Ok(new as u64)
}

pub fn dup2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (a[0] as i32, a[1] as i32);
    if old == new {
        t.fds.get(old)?;
        return Ok(new as u64);
    }
    do_dup3(t, old, new, false)
}

pub fn dup3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new, flags) = (a[0] as i32, a[1] as i32, a[2] as i32);
    if flags & !libc::O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    do_dup3(t, old, new, flags != 0)
}

pub fn fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, cmd, arg) = (a[0] as i32, a[1] as i32, a[2]);
    let f = t.fds.get(fd)?;
    match cmd {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            if arg >= nofile(t) {
                return Err(Errno::EINVAL);
            }
            t.fds
                .insert_from(arg as usize, f, cmd == libc::F_DUPFD_CLOEXEC)
                .map(|fd| fd as u64)
        }
        libc::F_GETFD => Ok(t.fds.cloexec(fd)? as u64),
        libc::F_SETFD => t.fds.set_cloexec(fd, arg & 1 != 0).map(|_| 0),
        libc::F_GETFL => Ok(f.flags() as u64),
        libc::F_SETFL => {
            f.set_flags(arg as i32);
            Ok(0)
        }
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | F_OFD_GETLK
        | F_OFD_SETLK
        | F_OFD_SETLKW => record_lock(t, &f, cmd, arg),
        libc::F_GETPIPE_SZ => f.ops.pipe_size(None).map(|n| n as u64),
        // Files that cannot be sealed read as sealed against seals (Linux
        // 6.x; F_ADD_SEALS on them is EPERM).
        libc::F_GET_SEALS => Ok(f.ops.seals().unwrap_or(libc::F_SEAL_SEAL as u32) as u64),
        libc::F_ADD_SEALS => {
            if !f.writable() {
                return Err(Errno::EPERM);
            }
            f.ops.add_seals(arg as u32).map(|_| 0)
        }
        libc::F_SETPIPE_SZ => {
            let size = usize::try_from(arg as u32 as i32).map_err(|_| Errno::EINVAL)?;
            f.ops.pipe_size(Some(size)).map(|n| n as u64)
        }
        _ => Err(Errno::EINVAL),
    }
}

const F_OFD_GETLK: i32 = 36;
const F_OFD_SETLK: i32 = 37;
const F_OFD_SETLKW: i32 = 38;

/// fcntl's byte-range locks: POSIX (owned by the process) and OFD (owned
/// by the open file description).
fn record_lock(t: &mut Task, f: &Arc<File>, cmd: i32, arg: u64) -> SysResult {
    use crate::vfs::lock::{self, Owner};
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let mut fl: libc::flock = t.mm.read_obj(arg)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let owner = if ofd {
        Owner::File(f.lock_owner())
    } else {
        Owner::Process(t.pid)
    };
    let base = match fl.l_whence as i32 {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => *f.offset.lock() as i64,
        libc::SEEK_END => f.ops.stat()?.size,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(fl.l_start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = match fl.l_len {
        0 => (start, i64::MAX),
        len if len > 0 => (start, start.checked_add(len - 1).ok_or(Errno::EOVERFLOW)?),
        len => (start + len, start - 1),
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let end = if end == i64::MAX {
        u64::MAX
    } else {
        end as u64
    };
    let key = f.lock_key()?;
    let ty = fl.l_type as i32;
    if matches!(cmd, libc::F_GETLK | F_OFD_GETLK) {
        let write = match ty {
            libc::F_RDLCK => false,
            libc::F_WRLCK => true,
            _ => return Err(Errno::EINVAL),
        };
        match lock::test_record(key, owner, write, start as u64, end) {
            None => fl.l_type = libc::F_UNLCK as i16,
            Some(r) => {
                fl.l_type = (if r.write {
                    libc::F_WRLCK
                } else {
                    libc::F_RDLCK
                }) as i16;
                fl.l_whence = libc::SEEK_SET as i16;
                fl.l_start = r.start as i64;
                fl.l_len = if r.end == u64::MAX {
                    0
                } else {
                    (r.end - r.start + 1) as i64
                };
                fl.l_pid = match r.owner {
                    Owner::Process(pid) => pid,
                    Owner::File(_) => -1,
                };
            }
        }
        t.mm.write_obj(arg, &fl)?;
        return Ok(0);
    }
    let write = match ty {
        libc::F_RDLCK if f.readable() => Some(false),
        libc::F_WRLCK if f.writable() => Some(true),
        libc::F_RDLCK | libc::F_WRLCK => return Err(Errno::EBADF),
        libc::F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    let wait = matches!(cmd, libc::F_SETLKW | F_OFD_SETLKW);
    lock::set_record(key, owner, write, start as u64, end, wait).map(|_| 0)
}

/// flock(2).
pub fn flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::vfs::lock::{self, Flock};
    let (fd, op) = (a[0] as i32, a[1] as i32);
    let f = t.fds.get(fd)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    let what = match op & !libc::LOCK_NB {
        libc::LOCK_SH => Flock::Shared,
        libc::LOCK_EX => Flock::Exclusive,
        libc::LOCK_UN => Flock::Unlock,
        _ => return Err(Errno::EINVAL),
    };
    lock::flock(f.lock_key()?, f.lock_owner(), what, op & libc::LOCK_NB == 0).map(|_| 0)
}

pub fn ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, req, arg) = (a[0] as i32, a[1], a[2]);
    let f = t.fds.get(fd)?;
    match req {
        libc::FIOCLEX => t.fds.set_cloexec(fd, true).map(|_| 0),
        libc::FIONCLEX => t.fds.set_cloexec(fd, false).map(|_| 0),
        libc::FIONBIO => {
            let on: i32 = t.mm.read_obj(arg)?;
            let fl = f.flags();
            f.set_flags(if on != 0 {
                fl | libc::O_NONBLOCK
            } else {
                fl & !libc::O_NONBLOCK
            });
            Ok(0)
        }
        _ => {
            if f.is_path() {
                return Err(Errno::EBADF);
            }
            f.ops.ioctl(req, arg, &t.mm)
        }
    }
}

pub fn fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.get(a[0] as i32)?.ops.sync().map(|_| 0)
}

/// `sync(2)`: sandbox files live in memory or are written straight to
/// host fds, whose write-back is the host's.
pub fn sync(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

fn setattr_target(target: Target, attr: &SetAttr) -> SysResult {
    let dentry = match &target {
        Target::Dentry(d) => {
            d.inode.setattr(attr)?;
            Some(d.clone())
        }
        Target::File(f) => {
            f.ops.setattr(attr)?;
            f.dentry.clone()
        }
    };
    if let Some(d) = dentry {
        let what = if attr.size.is_some() {
            libc::IN_MODIFY
        } else {
            libc::IN_ATTRIB
        };
        inotify::dentry_event(&d, what);
    }
    Ok(0)
}

pub fn truncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let target = resolve_at(t, libc::AT_FDCWD, a[0], 0)?;
    let st = target.stat()?;
    if st.is_dir() {
        return Err(Errno::EISDIR);
    }
    let attr = SetAttr {
        size: Some(a[1]),
        ..SetAttr::default()
    };
    setattr_target(target, &attr)
}

pub fn ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if !f.writable() {
        return Err(if f.is_path() {
            Errno::EBADF
        } else {
            Errno::EINVAL
        });
    }
    let attr = SetAttr {
        size: Some(a[1]),
        ..SetAttr::default()
    };
    match &f.dentry {
        Some(d) => d.inode.setattr(&attr).map(|_| 0),
        None => f.ops.setattr(&attr).map(|_| 0),
    }
}

fn do_mkdir(t: &mut Task, dirfd: i32, path: u64, mode: u32) -> SysResult {
    let (parent, name, _) = resolve_parent(t, dirfd, path)?;
    if name == b"." || name == b".." || parent.child(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_create(t, &parent)?;
    parent.inode.mkdir(&name, mode & !t.umask & 0o7777)?;
    own_new(t, &parent, &*parent.child(&name)?)?;
    inotify::dir_event(&parent, &name, libc::IN_CREATE, true, 0);
    Ok(0)
}

fn do_mknod(t: &mut Task, dirfd: i32, path: u64, mode: u32, dev: u64) -> SysResult {
    let kind = match mode & libc::S_IFMT {
        0 => libc::S_IFREG,
        k @ (libc::S_IFREG | libc::S_IFIFO | libc::S_IFSOCK) => k,
        k @ (libc::S_IFCHR | libc::S_IFBLK) => {
            if t.creds.euid != 0 {
                return Err(Errno::EPERM);
            }
            k
        }
        libc::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let (parent, name, _) = resolve_parent(t, dirfd, path)?;
    if name == b"." || name == b".." || parent.child(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_create(t, &parent)?;
    let perm = mode & !t.umask & 0o7777;
    if kind == libc::S_IFREG {
        parent.inode.create(&name, perm)?;
    } else {
        parent.inode.mknod(&name, kind | perm, dev)?;
    }
    own_new(t, &parent, &*parent.child(&name)?)?;
    inotify::dir_event(&parent, &name, libc::IN_CREATE, false, 0);
    Ok(0)
}

pub fn mknod(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mknod(t, libc::AT_FDCWD, a[0], a[1] as u32, a[2])
}

pub fn mknodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mknod(t, a[0] as i32, a[1], a[2] as u32, a[3])
}

pub fn mkdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mkdir(t, libc::AT_FDCWD, a[0], a[1] as u32)
}

pub fn mkdirat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mkdir(t, a[0] as i32, a[1], a[2] as u32)
}

fn do_unlink(t: &mut Task, dirfd: i32, path: u64, dir: bool) -> SysResult {
    let (parent, name, trailing) = resolve_parent(t, dirfd, path)?;
    if dir {
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
    } else if name == b"." || name == b".." || trailing {
        let d = parent.child(&name)?;
        return Err(if d.inode.stat()?.is_dir() {
            Errno::EISDIR
        } else {
            Errno::ENOTDIR
        });
    }
    let child = parent.child(&name)?;
    if Arc::ptr_eq(&child, &t.root) {
        return Err(Errno::EBUSY);
    }
    may_delete(t, &parent, &child)?;
    parent.inode.unlink(&name, dir)?;
    parent.forget(&name);
    if inotify::active() {
        // In Linux's order: the link count change, the end of the file
        // itself (when that was its last name), then the name's removal.
        if let Ok(st) = child.inode.stat() {
            if !dir {
                inotify::notify((st.dev, st.ino), libc::IN_ATTRIB, 0, &[]);
            }
            if st.nlink == 0 || dir {
                inotify::deleted((st.dev, st.ino));
            }
        }
        inotify::dir_event(&parent, &name, libc::IN_DELETE, dir, 0);
    }
    Ok(0)
}

pub fn unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_unlink(t, libc::AT_FDCWD, a[0], false)
}

pub fn rmdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_unlink(t, libc::AT_FDCWD, a[0], true)
}

pub fn unlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] as i32;
    if flags & !libc::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    do_unlink(t, a[0] as i32, a[1], flags != 0)
}

fn do_rename(t: &mut Task, od: i32, op: u64, nd: i32, np: u64, flags: u32) -> SysResult {
    let exchange = flags & libc::RENAME_EXCHANGE != 0;
    if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE) != 0
        || (exchange && flags & libc::RENAME_NOREPLACE != 0)
    {
        return Err(Errno::EINVAL);
    }
    let (oparent, oname, _) = resolve_parent(t, od, op)?;
    let (nparent, nname, _) = resolve_parent(t, nd, np)?;
    for n in [&oname, &nname] {
        if n.as_slice() == b"." || n.as_slice() == b".." {
            return Err(Errno::EBUSY);
        }
    }
    let src = oparent.child(&oname)?;
    if flags & libc::RENAME_NOREPLACE != 0 && nparent.child(&nname).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_delete(t, &oparent, &src)?;
    match nparent.child(&nname) {
        Ok(dst) => may_delete(t, &nparent, &dst)?,
        Err(_) => may_create(t, &nparent)?,
    }
    if exchange {
        let dst = nparent.child(&nname)?;
        // Neither directory may end up inside itself.
        for (moving, into) in [(&src, &nparent), (&dst, &oparent)] {
            if moving.inode.stat()?.is_dir() {
                let mut p = Some(into.clone());
                while let Some(d) = p {
                    if Arc::ptr_eq(&d, moving) {
                        return Err(Errno::EINVAL);
                    }
                    p = d.parent.clone();
                }
            }
        }
        oparent
            .inode
            .exchange(&oname, nparent.inode.as_ref(), &nname)?;
        oparent.forget(&oname);
        nparent.forget(&nname);
        return Ok(0);
    }
    // A directory cannot move into itself.
    if src.inode.stat()?.is_dir() {
        let mut p = Some(nparent.clone());
        while let Some(d) = p {
            if Arc::ptr_eq(&d, &src) {
                return Err(Errno::EINVAL);
            }
            p = d.parent.clone();
        }
    }
    let moved = oparent.child(&oname).ok();
    oparent
        .inode
        .rename(&oname, nparent.inode.as_ref(), &nname)?;
    oparent.forget(&oname);
    nparent.forget(&nname);
    if let (Some(m), true) = (moved, inotify::active()) {
        if let Ok(st) = m.inode.stat() {
            let cookie = inotify::cookie();
            let is_dir = st.is_dir();
            inotify::dir_event(&oparent, &oname, libc::IN_MOVED_FROM, is_dir, cookie);
            inotify::dir_event(&nparent, &nname, libc::IN_MOVED_TO, is_dir, cookie);
            inotify::notify((st.dev, st.ino), libc::IN_MOVE_SELF, 0, &[]);
        }
    }
    Ok(0)
}

pub fn rename(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_rename(t, libc::AT_FDCWD, a[0], libc::AT_FDCWD, a[1], 0)
}

pub fn renameat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_rename(t, a[0] as i32, a[1], a[2] as i32, a[3], 0)
}

pub fn renameat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_rename(t, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32)
}

fn do_symlink(t: &mut Task, target: u64, dirfd: i32, path: u64) -> SysResult {
    let target = path_arg(t, target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let (parent, name, trailing) = resolve_parent(t, dirfd, path)?;
    if name == b"." || name == b".." || parent.child(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    if trailing {
        return Err(Errno::ENOENT);
    }
    may_create(t, &parent)?;
    parent.inode.symlink(&name, &target)?;
    own_new(t, &parent, &*parent.child(&name)?)?;
    inotify::dir_event(&parent, &name, libc::IN_CREATE, false, 0);
    Ok(0)
}

pub fn symlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_symlink(t, a[0], libc::AT_FDCWD, a[1])
}

pub fn symlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_symlink(t, a[0], a[1] as i32, a[2])
}

fn chmod_target(target: Target, mode: u32) -> SysResult {
    let attr = SetAttr {
        mode: Some(mode & 0o7777),
        ..SetAttr::default()
    };
    setattr_target(target, &attr)
}

pub fn chmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = resolve_at(t, libc::AT_FDCWD, a[0], 0)?;
    chmod_target(target, a[1] as u32)
}

pub fn fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let target = match f.dentry.clone() {
        Some(d) => Target::Dentry(d),
        None => Target::File(f),
    };
    chmod_target(target, a[1] as u32)
}

pub fn fchmodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = resolve_at(t, a[0] as i32, a[1], 0)?;
    chmod_target(target, a[2] as u32)
}

fn chown_target(target: Target, uid: u64, gid: u64) -> SysResult {
    let id = |v: u64| (v as u32 != u32::MAX).then_some(v as u32);
    let attr = SetAttr {
        uid: id(uid),
        gid: id(gid),
        ..SetAttr::default()
    };
    setattr_target(target, &attr)
}

pub fn chown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = resolve_at(t, libc::AT_FDCWD, a[0], 0)?;
    chown_target(target, a[1], a[2])
}

pub fn lchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = resolve_at(t, libc::AT_FDCWD, a[0], libc::AT_SYMLINK_NOFOLLOW)?;
    chown_target(target, a[1], a[2])
}

pub fn fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let target = match f.dentry.clone() {
        Some(d) => Target::Dentry(d),
        None => Target::File(f),
    };
    chown_target(target, a[1], a[2])
}

pub fn fchownat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[4] as i32;
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = resolve_at(t, a[0] as i32, a[1], flags)?;
    chown_target(target, a[2], a[3])
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.umask;
    t.set_umask(a[0] as u32 & 0o777);
    Ok(old as u64)
}

pub fn utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, path, times, flags) = (a[0] as i32, a[1], a[2], a[3] as i32);
    let now = Timespec::now();
    let times = if times == 0 {
        (Some(now), Some(now))
    } else {
        let ts: [libc::timespec; 2] = [t.mm.read_obj(times)?, t.mm.read_obj(times + 16)?];
        let conv = |x: libc::timespec| -> Result<Option<Timespec>, Errno> {
            match x.tv_nsec {
                libc::UTIME_OMIT => Ok(None),
                libc::UTIME_NOW => Ok(Some(now)),
                n if (0..1_000_000_000).contains(&n) => Ok(Some(Timespec {
                    sec: x.tv_sec,
                    nsec: n,
                })),
                _ => Err(Errno::EINVAL),
            }
        };
        (conv(ts[0])?, conv(ts[1])?)
    };
    set_times(t, dirfd, path, times, flags)
}

/// Sets the access and modification times of `path` (relative to
/// `dirfd`; the file `dirfd` itself when `path` is 0); None leaves one.
fn set_times(
    t: &mut Task,
    dirfd: i32,
    path: u64,
    (atime, mtime): (Option<Timespec>, Option<Timespec>),
    flags: i32,
) -> SysResult {
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = if path == 0 {
        match t.fds.get(dirfd)? {
            f if f.dentry.is_some() => Target::Dentry(f.dentry.clone().unwrap()),
            f => Target::File(f),
        }
    } else {
        resolve_at(t, dirfd, path, flags)?
    };
    if atime.is_none() && mtime.is_none() {
        return Ok(0);
    }
    setattr_target(
        target,
        &SetAttr {
            atime,
            mtime,
            ..SetAttr::default()
        },
    )
}

/// Times from a `struct timeval[2]` at `addr` (0: now), as utimes reads them.
fn timevals(t: &Task, addr: u64) -> Result<(Option<Timespec>, Option<Timespec>), Errno> {
    if addr == 0 {
        let now = Timespec::now();
        return Ok((Some(now), Some(now)));
    }
    let tv: [libc::timeval; 2] = t.mm.read_obj(addr)?;
    let conv = |x: libc::timeval| {
        if !(0..1_000_000).contains(&x.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Ok(Some(Timespec {
            sec: x.tv_sec,
            nsec: x.tv_usec * 1000,
        }))
    };
    Ok((conv(tv[0])?, conv(tv[1])?))
}

/// utime(path, struct utimbuf *): whole seconds.
pub fn utime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let times = if a[1] == 0 {
        let now = Timespec::now();
        (Some(now), Some(now))
    } else {
        let b: [i64; 2] = [t.mm.read_obj(a[1])?, t.mm.read_obj(a[1] + 8)?];
        let at = |sec| Some(Timespec { sec, nsec: 0 });
        (at(b[0]), at(b[1]))
    };
    set_times(t, libc::AT_FDCWD, a[0], times, 0)
}

pub fn utimes(t: &mut Task, a: [u64; 6]) -> SysResult {
    let times = timevals(t, a[1])?;
    set_times(t, libc::AT_FDCWD, a[0], times, 0)
}

pub fn futimesat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let times = timevals(t, a[2])?;
    set_times(t, a[0] as i32, a[1], times, 0)
}

fn fill_statfs(t: &Task, addr: u64) -> SysResult {
    let mut s: libc::statfs = Plain::zeroed();
    s.f_type = 0x0102_1994; // TMPFS_MAGIC: the overlay's upper layer.
    s.f_bsize = 4096;
    s.f_blocks = 1 << 24;
    s.f_bfree = 1 << 23;
    s.f_bavail = 1 << 23;
    s.f_files = 1 << 20;
    s.f_ffree = 1 << 19;
    s.f_namelen = 255;
    s.f_frsize = 4096;
    t.mm.write_obj(addr, &s)?;
    Ok(0)
}

pub fn statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    resolve_at(t, libc::AT_FDCWD, a[0], 0)?;
    fill_statfs(t, a[1])
}

pub fn fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.get(a[0] as i32)?;
    fill_statfs(t, a[1])
}

fn do_pipe(t: &mut Task, fds_addr: u64, flags: i32) -> SysResult {
    if flags & !(libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = crate::fs::pipe::Pipe::new_pair();
    let extra = flags & libc::O_NONBLOCK;
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let rf = File::new(r, None, libc::O_RDONLY | extra);
    let wf = File::new(w, None, libc::O_WRONLY | extra);
    let rfd = t.fds.insert(rf, cloexec)?;
    let wfd = match t.fds.insert(wf, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.fds.remove(rfd);
            return Err(e);
        }
    };
    if let Err(e) = t.mm.write_obj(fds_addr, &[rfd, wfd]) {
        let _ = t.fds.remove(rfd);
        let _ = t.fds.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn pipe(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_pipe(t, a[0], 0)
}

pub fn pipe2(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_pipe(t, a[0], a[1] as i32)
}

fn do_link(t: &mut Task, od: i32, op: u64, nd: i32, np: u64, flags: i32) -> SysResult {
    if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let resolve_flags = (if flags & libc::AT_SYMLINK_FOLLOW == 0 {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    }) | (flags & libc::AT_EMPTY_PATH);
    let target = match resolve_at(t, od, op, resolve_flags)? {
        Target::Dentry(d) => d,
        Target::File(f) => f.dentry.clone().ok_or(Errno::ENOENT)?,
    };
    if target.inode.stat()?.is_dir() {
        return Err(Errno::EPERM);
    }
    let (parent, name, trailing) = resolve_parent(t, nd, np)?;
    if trailing || name == b"." || name == b".." {
        return Err(Errno::ENOENT);
    }
    if parent.child(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_create(t, &parent)?;
    parent.inode.link(&name, &target.inode)?;
    parent.forget(&name);
    inotify::dir_event(&parent, &name, libc::IN_CREATE, false, 0);
    inotify::dentry_event(&target, libc::IN_ATTRIB);
    Ok(0)
}

pub fn link(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_link(t, libc::AT_FDCWD, a[0], libc::AT_FDCWD, a[1], 0)
}

pub fn linkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_link(t, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as i32)
}
