//! The gofer's server: answers one connection's requests inside a root.
//!
//! # Confinement
//!
//! Every node is an `O_PATH | O_NOFOLLOW` fd obtained by `openat` of a single
//! validated component (not empty, not `.`/`..`, no `/`, no NUL) relative to
//! another node, starting from the configured root. The server never follows
//! a symlink and never resolves `..`, so no sequence of requests can name a
//! file outside the root. Fds are only ever donated for regular files and
//! directories: a regular file is reopened through `/proc/self/fd/N` (a magic
//! link bound to the inode itself, not to a path) after checking its type, a
//! directory through `openat(node, ".")`.
//!
//! Errnos chosen where Linux has no direct equivalent: an empty name is
//! `ENOENT`; `.`, `..`, a `/` or a NUL in a name is `EINVAL`; opening a symlink
//! is `ELOOP`, a fifo or device `EACCES`, a socket `ENXIO`; an unknown node id
//! is `EBADF`; a malformed request is `EINVAL`; extended attributes outside the
//! `user.` namespace are `EOPNOTSUPP` (so that a sandbox can never set, say,
//! `security.capability` on a host file).
//!
//! Requirements: `/proc` mounted when [`serve`] starts (it opens
//! `/proc/self/fd` once; opening regular files, chmod and xattrs need it) and
//! Linux ≥ 5.8 (`utimensat` with `AT_EMPTY_PATH`).

use crate::message::{put_dirent, put_stat, put_statfs, ReplyHeader, Request};
use crate::sys::{self, EMPTY};
use crate::wire::{recv_frame, send_frame, Encoder, MAX_MESSAGE};
use crate::{Error, NodeId, Result, SetAttr, Stat, TimeSet};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// What a gofer server serves.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The host directory that is the mount's root; nothing outside it is
    /// ever reachable through the connection.
    pub root: PathBuf,
    /// Refuse every mutating operation (and opens for writing) with `EROFS`.
    pub readonly: bool,
}

/// Offset of the `nfds` byte in a reply frame (length, id, errno).
const NFDS_POS: usize = 4 + 8 + 4;
/// Largest extended attribute value (Linux's `XATTR_SIZE_MAX`).
const XATTR_MAX: usize = 65536;
/// Longest symlink target accepted.
const SYMLINK_MAX: usize = libc::PATH_MAX as usize - 1;

struct Node {
    fd: OwnedFd,
    /// `S_IFMT` bits; an inode's type never changes.
    kind: u32,
}

struct Server<'c> {
    config: &'c ServerConfig,
    root: OwnedFd,
    /// `/proc/self/fd`, opened once, to reopen nodes by their fd number.
    proc_fd: Option<OwnedFd>,
    nodes: HashMap<u64, Node>,
    next_id: u64,
}

fn errno(e: i32) -> Error {
    Error::Errno(e)
}

/// Checks one path component; see the module docs for the errnos.
fn component(name: &[u8]) -> Result<CString> {
    match name {
        b"" => Err(errno(libc::ENOENT)),
        b"." | b".." => Err(errno(libc::EINVAL)),
        _ if name.contains(&b'/') || name.contains(&0) => Err(errno(libc::EINVAL)),
        _ if name.len() > 255 => Err(errno(libc::ENAMETOOLONG)),
        _ => sys::cstring(name),
    }
}

fn fd_name(fd: BorrowedFd<'_>) -> CString {
    // A decimal number never contains NUL.
    CString::new(fd.as_raw_fd().to_string()).unwrap_or_default()
}

fn timespec(t: Option<TimeSet>) -> libc::timespec {
    match t {
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        Some(TimeSet::Now) => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        },
        Some(TimeSet::At(t)) => libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec,
        },
    }
}

/// Flags a client may pass to open; everything else (`O_CREAT`, `O_EXCL`,
/// `O_PATH`, `O_TMPFILE`, ...) is dropped.
const OPEN_ALLOWED: i32 = libc::O_ACCMODE
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_DIRECTORY
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_NOATIME
    | libc::O_DIRECT
    | libc::O_LARGEFILE;

/// Serves one connection until the peer hangs up (`Ok(())`). Blocking; the
/// caller may run one thread per connection. Fails if the root cannot be
/// opened or the socket breaks; a malformed request only earns an `EINVAL`
/// reply (or, if not even its id can be read, the connection is dropped).
pub fn serve(config: &ServerConfig, sock: OwnedFd) -> Result<()> {
    let proc_fd = open_proc_self_fd().ok();
    if proc_fd.is_none() {
        log::warn!("gofer: /proc/self/fd unavailable; opens of regular files will fail");
    }
    serve_with_proc_fd(config, sock, proc_fd)
}

/// Opens `/proc/self/fd` as an `O_PATH` directory, for
/// [`serve_with_proc_fd`]: a gofer that `chroot`s or `pivot_root`s away from
/// `/proc` before serving opens it first.
pub fn open_proc_self_fd() -> Result<OwnedFd> {
    sys::open(
        c"/proc/self/fd",
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
    )
}

/// [`serve`] with an already opened `/proc/self/fd` of this process (see
/// [`open_proc_self_fd`]), or `None` to serve without it (opening regular
/// files, chmod, xattrs and unprivileged `link` then fail with `EOPNOTSUPP`).
pub fn serve_with_proc_fd(
    config: &ServerConfig,
    sock: OwnedFd,
    proc_fd: Option<OwnedFd>,
) -> Result<()> {
    let path = sys::cstring(config.root.as_os_str().as_bytes())?;
    let root = sys::open(&path, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)?;
    let mut server = Server {
        config,
        root,
        proc_fd,
        nodes: HashMap::new(),
        next_id: 1,
    };
    let mut inbuf = Vec::new();
    let mut infds = Vec::new();
    let mut out = Vec::new();
    loop {
        match recv_frame(sock.as_fd(), &mut inbuf, &mut infds) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(Error::Io(e)) if e.raw_os_error() == Some(libc::ECONNRESET) => return Ok(()),
            Err(e) => return Err(e),
        }
        // The client never legitimately sends fds: close any it did.
        infds.clear();
        let (id, d) = Request::decode_id(&inbuf)?;
        let result = match Request::decode(d) {
            Ok(Request::Close { node }) => {
                server.nodes.remove(&node.0);
                continue;
            }
            Ok(req) => server.handle(&req, id, &mut out),
            Err(e) => {
                log::debug!("gofer: malformed request {id}: {e}");
                Err(errno(libc::EINVAL))
            }
        };
        let fd = match result {
            Ok(fd) => fd,
            Err(e) => {
                let errno = match e {
                    Error::Protocol(_) => libc::EINVAL,
                    e => e.errno(),
                };
                ReplyHeader { id, errno, nfds: 0 }
                    .encode(&mut out)
                    .finish()?;
                None
            }
        };
        let fds: Vec<BorrowedFd<'_>> = fd.iter().map(|f| f.as_fd()).collect();
        match send_frame(sock.as_fd(), &out, &fds) {
            Ok(()) => {}
            Err(Error::Io(e))
                if matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ECONNRESET)) =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        }
    }
}

impl Server<'_> {
    /// Runs one request, writing the complete reply frame into `out`.
    /// Returns the fd to send with it, if any.
    fn handle(&mut self, req: &Request<'_>, id: u64, out: &mut Vec<u8>) -> Result<Option<OwnedFd>> {
        if self.config.readonly && req.is_mutating() {
            return Err(errno(libc::EROFS));
        }
        let mut e = ReplyHeader {
            id,
            errno: 0,
            nfds: 0,
        }
        .encode(out);
        let fd = self.dispatch(req, &mut e)?;
        if fd.is_some() {
            e.patch(NFDS_POS, &[1]);
        }
        e.finish()?;
        Ok(fd)
    }

    fn dispatch(&mut self, req: &Request<'_>, e: &mut Encoder<'_>) -> Result<Option<OwnedFd>> {
        match *req {
            Request::Root => {
                let fd = self.root.try_clone()?;
                let (id, st) = self.insert(fd)?;
                put_node(e, id, &st);
            }
            Request::Walk { dir, ref names } => self.walk(dir, names, e)?,
            Request::Stat { node } => put_stat(e, &sys::fstat(self.node(node)?.fd.as_fd())?),
            Request::Open { node, flags } => return self.open(node, flags).map(Some),
            Request::Readlink { node } => {
                let n = self.node(node)?;
                if n.kind != libc::S_IFLNK {
                    return Err(errno(libc::EINVAL));
                }
                e.bytes(&sys::readlink_fd(n.fd.as_fd())?);
            }
            Request::Getdents { dir, offset } => self.getdents(dir, offset, e)?,
            Request::Statfs { node } => put_statfs(e, &sys::fstatfs(self.node(node)?.fd.as_fd())?),
            Request::Create {
                dir,
                name,
                flags,
                mode,
                uid,
                gid,
            } => {
                let (id, st, fd) = self.create(dir, name, flags, mode, uid, gid)?;
                put_node(e, id, &st);
                return Ok(Some(fd));
            }
            Request::Mkdir {
                dir,
                name,
                mode,
                uid,
                gid,
            } => {
                let name = component(name)?;
                let d = self.node(dir)?.fd.as_fd();
                sys::mkdirat(d, &name, mode & 0o7777)?;
                let (id, st) = self.finish_new(dir, &name, mode, uid, gid)?;
                put_node(e, id, &st);
            }
            Request::Mknod {
                dir,
                name,
                mode,
                rdev: _,
                uid,
                gid,
            } => {
                let name = component(name)?;
                let kind = match mode & libc::S_IFMT {
                    0 | libc::S_IFREG => libc::S_IFREG,
                    libc::S_IFIFO => libc::S_IFIFO,
                    _ => return Err(errno(libc::EPERM)),
                };
                let d = self.node(dir)?.fd.as_fd();
                sys::mknodat(d, &name, kind | (mode & 0o7777), 0)?;
                let (id, st) = self.finish_new(dir, &name, mode, uid, gid)?;
                put_node(e, id, &st);
            }
            Request::Symlink {
                dir,
                name,
                target,
                uid,
                gid,
            } => {
                let name = component(name)?;
                if target.is_empty() {
                    return Err(errno(libc::ENOENT));
                }
                if target.len() > SYMLINK_MAX {
                    return Err(errno(libc::ENAMETOOLONG));
                }
                let target = sys::cstring(target)?;
                let d = self.node(dir)?.fd.as_fd();
                sys::symlinkat(&target, d, &name)?;
                let (id, st) = self.finish_new(dir, &name, 0o777, uid, gid)?;
                put_node(e, id, &st);
            }
            Request::Link { target, dir, name } => {
                let name = component(name)?;
                let t = self.node(target)?;
                if t.kind == libc::S_IFDIR {
                    return Err(errno(libc::EPERM));
                }
                let d = self.node(dir)?.fd.as_fd();
                let tfd = t.fd.as_fd();
                match sys::linkat(tfd, EMPTY, d, &name, libc::AT_EMPTY_PATH) {
                    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; fall back to
                    // the magic link, which also names the inode itself.
                    Err(Error::Errno(libc::ENOENT | libc::EPERM)) if self.proc_fd.is_some() => {
                        let proc_fd = self.proc()?;
                        sys::linkat(proc_fd, &fd_name(tfd), d, &name, libc::AT_SYMLINK_FOLLOW)?;
                    }
                    r => r?,
                }
                let fd = sys::openat(
                    d,
                    &name,
                    libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                    0,
                )?;
                let (id, st) = self.insert(fd)?;
                put_node(e, id, &st);
            }
            Request::Unlink { dir, name, flags } => {
                let name = component(name)?;
                if flags & !libc::AT_REMOVEDIR != 0 {
                    return Err(errno(libc::EINVAL));
                }
                sys::unlinkat(self.node(dir)?.fd.as_fd(), &name, flags)?;
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => {
                let old_name = component(old_name)?;
                let new_name = component(new_name)?;
                if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE) != 0 {
                    return Err(errno(libc::EINVAL));
                }
                let od = self.node(old_dir)?.fd.as_fd();
                let nd = self.node(new_dir)?.fd.as_fd();
                sys::renameat2(od, &old_name, nd, &new_name, flags)?;
            }
            Request::SetAttr { node, ref attr } => put_stat(e, &self.setattr(node, attr)?),
            Request::GetXattr { node, name } => {
                let (path, name) = self.xattr_target(node, name)?;
                let Some(path) = path else {
                    return Err(errno(libc::ENODATA));
                };
                let mut buf = vec![0u8; XATTR_MAX];
                let n = sys::getxattr(&path, &name, &mut buf)?;
                e.bytes(&buf[..n]);
            }
            Request::SetXattr {
                node,
                name,
                value,
                flags,
            } => {
                let (path, name) = self.xattr_target(node, name)?;
                let path = path.ok_or(errno(libc::EPERM))?;
                if value.len() > XATTR_MAX {
                    return Err(errno(libc::E2BIG));
                }
                if flags & !(libc::XATTR_CREATE | libc::XATTR_REPLACE) != 0 {
                    return Err(errno(libc::EINVAL));
                }
                sys::setxattr(&path, &name, value, flags)?;
            }
            Request::RemoveXattr { node, name } => {
                let (path, name) = self.xattr_target(node, name)?;
                let path = path.ok_or(errno(libc::EPERM))?;
                sys::removexattr(&path, &name)?;
            }
            Request::ListXattr { node } => {
                let n = self.node(node)?;
                if n.kind != libc::S_IFREG && n.kind != libc::S_IFDIR {
                    e.u32(0);
                    return Ok(None);
                }
                let path = self.proc_path(n.fd.as_fd())?;
                let mut buf = vec![0u8; XATTR_MAX];
                let len = sys::listxattr(&path, &mut buf)?;
                let names: Vec<&[u8]> = buf[..len]
                    .split(|&b| b == 0)
                    .filter(|n| n.starts_with(b"user."))
                    .collect();
                e.u32(names.len() as u32);
                for n in names {
                    e.bytes(n);
                }
            }
            Request::Close { node } => {
                self.nodes.remove(&node.0);
            }
        }
        Ok(None)
    }

    fn node(&self, id: NodeId) -> Result<&Node> {
        self.nodes.get(&id.0).ok_or(errno(libc::EBADF))
    }

    fn proc(&self) -> Result<BorrowedFd<'_>> {
        self.proc_fd
            .as_ref()
            .map(|f| f.as_fd())
            .ok_or(errno(libc::EOPNOTSUPP))
    }

    fn proc_path(&self, fd: BorrowedFd<'_>) -> Result<CString> {
        self.proc()?;
        CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| errno(libc::EINVAL))
    }

    /// Adds an `O_PATH` fd to the node table.
    fn insert(&mut self, fd: OwnedFd) -> Result<(NodeId, Stat)> {
        let st = sys::fstat(fd.as_fd())?;
        let id = self.next_id;
        self.next_id += 1;
        self.nodes.insert(
            id,
            Node {
                fd,
                kind: st.file_type(),
            },
        );
        Ok((NodeId(id), st))
    }

    fn walk(&mut self, dir: NodeId, names: &[&[u8]], e: &mut Encoder<'_>) -> Result<()> {
        let names: Vec<CString> = names.iter().map(|n| component(n)).collect::<Result<_>>()?;
        let mut walked: Vec<(NodeId, Stat)> = Vec::with_capacity(names.len());
        let mut cur = dir;
        for (i, name) in names.iter().enumerate() {
            if let Some((_, st)) = walked.last() {
                if !st.is_dir() {
                    break;
                }
            }
            let d = self.node(cur)?.fd.as_fd();
            let fd = match sys::openat(
                d,
                name,
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0,
            ) {
                Ok(fd) => fd,
                Err(err) if i == 0 => return Err(err),
                Err(_) => break,
            };
            let (id, st) = self.insert(fd)?;
            walked.push((id, st));
            cur = id;
        }
        e.u32(walked.len() as u32);
        for (id, st) in &walked {
            put_node(e, *id, st);
        }
        Ok(())
    }

    /// Opens a regular file or directory node with sanitized flags.
    fn reopen(&self, node: &Node, flags: i32) -> Result<OwnedFd> {
        let flags = (flags & OPEN_ALLOWED) | libc::O_CLOEXEC | libc::O_NOCTTY;
        match node.kind {
            libc::S_IFDIR => sys::openat(node.fd.as_fd(), c".", flags | libc::O_NOFOLLOW, 0),
            // The magic link is itself a "symlink", so no O_NOFOLLOW here; it
            // resolves to this very inode, which is known not to be a symlink.
            libc::S_IFREG => sys::openat(self.proc()?, &fd_name(node.fd.as_fd()), flags, 0),
            libc::S_IFLNK => Err(errno(libc::ELOOP)),
            libc::S_IFSOCK => Err(errno(libc::ENXIO)),
            _ => Err(errno(libc::EACCES)),
        }
    }

    fn open(&self, node: NodeId, flags: i32) -> Result<OwnedFd> {
        let acc = flags & libc::O_ACCMODE;
        if acc == libc::O_ACCMODE {
            return Err(errno(libc::EINVAL));
        }
        if self.config.readonly && (acc != libc::O_RDONLY || flags & libc::O_TRUNC != 0) {
            return Err(errno(libc::EROFS));
        }
        self.reopen(self.node(node)?, flags)
    }

    fn getdents(&self, dir: NodeId, offset: i64, e: &mut Encoder<'_>) -> Result<()> {
        let n = self.node(dir)?;
        if n.kind != libc::S_IFDIR {
            return Err(errno(libc::ENOTDIR));
        }
        let fd = sys::openat(
            n.fd.as_fd(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0,
        )?;
        if offset != 0 {
            sys::seek(fd.as_fd(), offset)?;
        }
        const CHUNK: usize = 64 * 1024;
        let head = e.len();
        e.i64(offset).u8(0).u32(0);
        let mut next = offset;
        let mut count: u32 = 0;
        let mut eof = false;
        let mut buf = vec![0u8; CHUNK];
        // A chunk of kernel dirents never encodes larger than itself, so
        // stopping before the last 2 chunks' worth keeps us under the limit.
        while e.len() + 2 * CHUNK < MAX_MESSAGE {
            let len = sys::getdents64(fd.as_fd(), &mut buf)?;
            if len == 0 {
                eof = true;
                break;
            }
            let mut pos = 0;
            // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name.
            while pos + 19 <= len {
                let rec = &buf[pos..len];
                let ino = u64::from_ne_bytes(rec[0..8].try_into().unwrap_or_default());
                let off = i64::from_ne_bytes(rec[8..16].try_into().unwrap_or_default());
                let reclen =
                    u16::from_ne_bytes(rec[16..18].try_into().unwrap_or_default()) as usize;
                if reclen < 19 || reclen > rec.len() {
                    return Err(errno(libc::EIO));
                }
                let kind = rec[18];
                let name = &rec[19..reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if name != b"." && name != b".." {
                    put_dirent(e, ino, kind, name);
                    count += 1;
                }
                next = off;
                pos += reclen;
            }
        }
        e.patch(head, &next.to_le_bytes());
        e.patch(head + 8, &[eof as u8]);
        e.patch(head + 9, &count.to_le_bytes());
        Ok(())
    }

    /// Fixes mode and ownership of a just-created `dir/name` and adds it as
    /// a node. The name is opened `O_NOFOLLOW`, so even if it was swapped in
    /// the meantime the result is still a file inside the root.
    fn finish_new(
        &mut self,
        dir: NodeId,
        name: &CStr,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat)> {
        let d = self.node(dir)?.fd.as_fd();
        let fd = sys::openat(
            d,
            name,
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0,
        )?;
        let (id, st) = self.insert(fd)?;
        let node = self.node(id)?;
        let fix_mode = !st.is_symlink() && st.mode & 0o777 != mode & 0o777;
        if fix_mode {
            // The process umask trimmed the mode; the sentry already applied
            // the application's umask.
            let proc_fd = self.proc()?;
            sys::fchmodat(
                proc_fd,
                &fd_name(node.fd.as_fd()),
                (st.mode & 0o7000) | (mode & 0o777),
            )?;
        }
        let chown = chown_new(node.fd.as_fd(), &st, uid, gid)?;
        if fix_mode || chown {
            return Ok((id, sys::fstat(node.fd.as_fd())?));
        }
        Ok((id, st))
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: &[u8],
        flags: i32,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat, OwnedFd)> {
        let name = component(name)?;
        if flags & libc::O_ACCMODE == libc::O_ACCMODE {
            return Err(errno(libc::EINVAL));
        }
        let d = self.node(dir)?.fd.as_fd();
        let oflags = (flags & OPEN_ALLOWED & !libc::O_DIRECTORY)
            | libc::O_CREAT
            | libc::O_EXCL
            | libc::O_NOFOLLOW
            | libc::O_CLOEXEC
            | libc::O_NOCTTY;
        let file = sys::openat(d, &name, oflags, mode & 0o7777)?;
        let setup = |this: &mut Self| -> Result<(NodeId, Stat)> {
            let path_fd = sys::openat(
                this.proc()?,
                &fd_name(file.as_fd()),
                libc::O_PATH | libc::O_CLOEXEC,
                0,
            )?;
            let (id, st) = this.insert(path_fd)?;
            let mut changed = false;
            if st.mode & 0o777 != mode & 0o777 {
                sys::fchmod(file.as_fd(), (st.mode & 0o7000) | (mode & 0o777))?;
                changed = true;
            }
            changed |= chown_new(this.node(id)?.fd.as_fd(), &st, uid, gid)?;
            let st = if changed {
                sys::fstat(file.as_fd())?
            } else {
                st
            };
            Ok((id, st))
        };
        match setup(self) {
            Ok((id, st)) => Ok((id, st, file)),
            Err(err) => {
                // Do not leave a half-made file behind.
                let _ = sys::unlinkat(self.node(dir)?.fd.as_fd(), &name, 0);
                Err(err)
            }
        }
    }

    fn setattr(&self, node: NodeId, attr: &SetAttr) -> Result<Stat> {
        let n = self.node(node)?;
        let fd = n.fd.as_fd();
        if let Some(mode) = attr.mode {
            if n.kind == libc::S_IFLNK {
                return Err(errno(libc::EOPNOTSUPP));
            }
            sys::fchmodat(self.proc()?, &fd_name(fd), mode & 0o7777)?;
        }
        if attr.uid.is_some() || attr.gid.is_some() {
            let uid = attr.uid.unwrap_or(u32::MAX);
            let gid = attr.gid.unwrap_or(u32::MAX);
            sys::fchownat(
                fd,
                EMPTY,
                uid,
                gid,
                libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            )?;
        }
        if let Some(size) = attr.size {
            match n.kind {
                libc::S_IFREG => {}
                libc::S_IFDIR => return Err(errno(libc::EISDIR)),
                _ => return Err(errno(libc::EINVAL)),
            }
            let size = i64::try_from(size).map_err(|_| errno(libc::EINVAL))?;
            let file = self.reopen(n, libc::O_WRONLY)?;
            sys::ftruncate(file.as_fd(), size)?;
        }
        if attr.atime.is_some() || attr.mtime.is_some() {
            let times = [timespec(attr.atime), timespec(attr.mtime)];
            let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
            match sys::utimensat(fd, EMPTY, &times, flags) {
                // Kernels without AT_EMPTY_PATH support in utimensat: go
                // through the magic link (not possible for a symlink).
                Err(Error::Errno(libc::EINVAL)) if n.kind != libc::S_IFLNK => {
                    sys::utimensat(self.proc()?, &fd_name(fd), &times, 0)?
                }
                r => r?,
            }
        }
        sys::fstat(fd)
    }

    /// Checks an xattr request: the name must be in the `user.` namespace.
    /// Returns the path to operate on, or `None` for a node that cannot
    /// carry user xattrs (anything but regular files and directories).
    fn xattr_target(&self, node: NodeId, name: &[u8]) -> Result<(Option<CString>, CString)> {
        let n = self.node(node)?;
        let cname = sys::cstring(name)?;
        if name.len() > 255 {
            return Err(errno(libc::ERANGE));
        }
        if !name.starts_with(b"user.") {
            return Err(errno(libc::EOPNOTSUPP));
        }
        if n.kind != libc::S_IFREG && n.kind != libc::S_IFDIR {
            return Ok((None, cname));
        }
        Ok((Some(self.proc_path(n.fd.as_fd())?), cname))
    }
}

fn put_node(e: &mut Encoder<'_>, id: NodeId, st: &Stat) {
    e.u64(id.0);
    put_stat(e, st);
}

/// Gives a new node the requested owner; `EPERM` (not root) is ignored.
/// Returns whether anything changed.
fn chown_new(fd: BorrowedFd<'_>, st: &Stat, uid: u32, gid: u32) -> Result<bool> {
    if st.uid == uid && st.gid == gid {
        return Ok(false);
    }
    match sys::fchownat(
        fd,
        EMPTY,
        uid,
        gid,
        libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(()) => Ok(true),
        Err(Error::Errno(libc::EPERM)) => Ok(false),
        Err(e) => Err(e),
    }
}
