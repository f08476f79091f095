//! The sentry's side of a gofer connection.

use crate::message::{get_dirent, get_stat, get_statfs, ReplyHeader, Request, MAX_WALK};
use crate::wire::{recv_frame, send_frame, Decoder};
use crate::{DirEntry, Error, NodeId, Result, SetAttr, Stat, StatFs};
use parking_lot::Mutex;
use std::os::fd::{AsFd, OwnedFd};

struct Inner {
    sock: OwnedFd,
    next_id: u64,
    buf: Vec<u8>,
    fds: Vec<OwnedFd>,
    /// Set once a send or receive failed mid-frame: the stream can no longer
    /// be trusted to be in sync, so every later call fails with `EIO`.
    broken: bool,
}

/// A connection to one gofer server (one mount), used by the sentry.
///
/// `Send + Sync`: several sentry threads may call it at once. Calls are
/// serialized by a mutex, so exactly one request is in flight per connection;
/// this keeps replies trivially matched to requests (each reply still carries
/// the request id, which is checked).
pub struct Client {
    inner: Mutex<Inner>,
}

fn node_stat(d: &mut Decoder<'_>) -> Result<(NodeId, Stat)> {
    Ok((NodeId(d.u64()?), get_stat(d)?))
}

fn one_fd(fds: &mut Vec<OwnedFd>) -> Result<OwnedFd> {
    match (fds.pop(), fds.is_empty()) {
        (Some(fd), true) => Ok(fd),
        _ => Err(Error::Protocol("expected exactly one fd in reply".into())),
    }
}

impl Client {
    /// Wraps the sentry's end of a connected socket (see [`crate::socket_pair`]).
    pub fn new(sock: OwnedFd) -> Client {
        Client {
            inner: Mutex::new(Inner {
                sock,
                next_id: 1,
                buf: Vec::new(),
                fds: Vec::new(),
                broken: false,
            }),
        }
    }

    /// Sends `req`, waits for its reply and decodes the payload with `f`,
    /// which receives the fds that came with the reply.
    fn call<T>(
        &self,
        req: &Request<'_>,
        f: impl FnOnce(&mut Decoder<'_>, &mut Vec<OwnedFd>) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if inner.broken {
            return Err(Error::Protocol("gofer connection broken".into()));
        }
        let id = inner.next_id;
        inner.next_id += 1;
        req.encode(id, &mut inner.buf)?;
        let res = (|| {
            send_frame(inner.sock.as_fd(), &inner.buf, &[])?;
            if !recv_frame(inner.sock.as_fd(), &mut inner.buf, &mut inner.fds)? {
                return Err(Error::Protocol("gofer hung up".into()));
            }
            Ok(())
        })();
        if let Err(e) = res {
            inner.broken = true;
            return Err(e);
        }
        let mut fds = std::mem::take(&mut inner.fds);
        let mut d = Decoder::new(&inner.buf);
        let hdr = ReplyHeader::decode(&mut d)?;
        if hdr.id != id {
            inner.broken = true;
            return Err(Error::Protocol(format!(
                "reply id {} for request {id}",
                hdr.id
            )));
        }
        if hdr.nfds as usize != fds.len() {
            return Err(Error::Protocol("fd count mismatch".into()));
        }
        if hdr.errno != 0 {
            return Err(Error::Errno(hdr.errno));
        }
        let v = f(&mut d, &mut fds)?;
        d.finish()?;
        if !fds.is_empty() {
            return Err(Error::Protocol("unexpected fds in reply".into()));
        }
        Ok(v)
    }

    /// A fresh node for the mount root, with its stat.
    pub fn root(&self) -> Result<(NodeId, Stat)> {
        self.call(&Request::Root, |d, _| node_stat(d))
    }

    /// Walks one component `name` (no `/`, not `.`/`..`, not empty) from
    /// `dir`. A symlink is returned as itself, never followed.
    pub fn walk(&self, dir: NodeId, name: &[u8]) -> Result<(NodeId, Stat)> {
        let mut v = self.walk_many(dir, &[name])?;
        v.pop()
            .ok_or_else(|| Error::Protocol("empty walk reply".into()))
    }

    /// Walks several components in one round trip. Stops at the first
    /// missing component or after a symlink or non-directory, returning the
    /// nodes walked so far (so the sentry can resolve symlinks itself). Fails
    /// only for protocol failures, an invalid name anywhere, or if the first
    /// component cannot be walked.
    pub fn walk_many(&self, dir: NodeId, names: &[&[u8]]) -> Result<Vec<(NodeId, Stat)>> {
        let mut out: Vec<(NodeId, Stat)> = Vec::with_capacity(names.len());
        // Long walks go in chunks of MAX_WALK components per round trip.
        for chunk in names.chunks(MAX_WALK) {
            let from = match out.last() {
                None => dir,
                Some((_, st)) if !st.is_dir() => break,
                Some((node, _)) => *node,
            };
            let req = Request::Walk {
                dir: from,
                names: chunk.to_vec(),
            };
            let first_chunk = out.is_empty();
            let got = self.call(&req, |d, _| {
                let n = d.u32()? as usize;
                if n > chunk.len() {
                    return Err(Error::Protocol("walk returned too many nodes".into()));
                }
                (0..n).map(|_| node_stat(d)).collect::<Result<Vec<_>>>()
            });
            let got = match got {
                Ok(v) => v,
                // A later chunk's first component is not "the first
                // component": it just ends the walk.
                Err(Error::Errno(_)) if !first_chunk => break,
                Err(e) => return Err(e),
            };
            let complete = got.len() == chunk.len();
            out.extend(got);
            if !complete {
                break;
            }
        }
        Ok(out)
    }

    /// The current stat of `node`.
    pub fn stat(&self, node: NodeId) -> Result<Stat> {
        self.call(&Request::Stat { node }, |d, _| get_stat(d))
    }

    /// Opens `node` (a regular file or directory) and returns the host fd.
    /// `flags` are `open(2)` flags; the server adds
    /// `O_CLOEXEC | O_NOCTTY | O_NOFOLLOW` and drops `O_CREAT`/`O_EXCL`.
    pub fn open(&self, node: NodeId, flags: i32) -> Result<OwnedFd> {
        self.call(&Request::Open { node, flags }, |_, fds| one_fd(fds))
    }

    /// The target of the symlink `node` (`EINVAL` if not a symlink).
    pub fn readlink(&self, node: NodeId) -> Result<Vec<u8>> {
        self.call(&Request::Readlink { node }, |d, _| Ok(d.bytes()?.to_vec()))
    }

    /// Every entry of directory `dir` except `.` and `..` (paged over as many
    /// round trips as needed).
    pub fn getdents(&self, dir: NodeId) -> Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        let mut offset = 0i64;
        loop {
            let eof = self.call(&Request::Getdents { dir, offset }, |d, _| {
                offset = d.i64()?;
                let eof = d.u8()? != 0;
                let n = d.u32()? as usize;
                if n > d.remaining() / 13 {
                    return Err(Error::Protocol("bad dirent count".into()));
                }
                out.reserve(n);
                for _ in 0..n {
                    out.push(get_dirent(d)?);
                }
                Ok(eof)
            })?;
            if eof {
                return Ok(out);
            }
        }
    }

    /// `statfs` of the host filesystem holding `node`.
    pub fn statfs(&self, node: NodeId) -> Result<StatFs> {
        self.call(&Request::Statfs { node }, |d, _| get_statfs(d))
    }

    /// Creates regular file `name` in `dir` (`O_CREAT | O_EXCL` semantics),
    /// owned by `uid:gid`, and opens it with `flags`.
    pub fn create(
        &self,
        dir: NodeId,
        name: &[u8],
        flags: i32,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat, OwnedFd)> {
        self.call(
            &Request::Create {
                dir,
                name,
                flags,
                mode,
                uid,
                gid,
            },
            |d, fds| {
                let (n, s) = node_stat(d)?;
                Ok((n, s, one_fd(fds)?))
            },
        )
    }

    /// Creates directory `name` in `dir`, owned by `uid:gid`.
    pub fn mkdir(
        &self,
        dir: NodeId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat)> {
        self.call(
            &Request::Mkdir {
                dir,
                name,
                mode,
                uid,
                gid,
            },
            |d, _| node_stat(d),
        )
    }

    /// Creates a regular file or fifo `name` in `dir` (other types: `EPERM`).
    pub fn mknod(
        &self,
        dir: NodeId,
        name: &[u8],
        mode: u32,
        rdev: u64,
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat)> {
        self.call(
            &Request::Mknod {
                dir,
                name,
                mode,
                rdev,
                uid,
                gid,
            },
            |d, _| node_stat(d),
        )
    }

    /// Creates symlink `name` → `target` in `dir` (the target is stored
    /// verbatim; the server never follows it).
    pub fn symlink(
        &self,
        dir: NodeId,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<(NodeId, Stat)> {
        self.call(
            &Request::Symlink {
                dir,
                name,
                target,
                uid,
                gid,
            },
            |d, _| node_stat(d),
        )
    }

    /// Hard-links the file `target` as `name` in `dir`.
    pub fn link(&self, target: NodeId, dir: NodeId, name: &[u8]) -> Result<(NodeId, Stat)> {
        self.call(&Request::Link { target, dir, name }, |d, _| node_stat(d))
    }

    /// Removes `name` from `dir`; `flags` is 0 or `AT_REMOVEDIR`.
    pub fn unlink(&self, dir: NodeId, name: &[u8], flags: i32) -> Result<()> {
        self.call(&Request::Unlink { dir, name, flags }, |_, _| Ok(()))
    }

    /// Renames `old_dir/old_name` to `new_dir/new_name`; `flags` are
    /// `renameat2` flags (`RENAME_NOREPLACE`, `RENAME_EXCHANGE`).
    pub fn rename(
        &self,
        old_dir: NodeId,
        old_name: &[u8],
        new_dir: NodeId,
        new_name: &[u8],
        flags: u32,
    ) -> Result<()> {
        let req = Request::Rename {
            old_dir,
            old_name,
            new_dir,
            new_name,
            flags,
        };
        self.call(&req, |_, _| Ok(()))
    }

    /// Changes the attributes of `node` (never following a symlink) and
    /// returns its new stat.
    pub fn setattr(&self, node: NodeId, attr: &SetAttr) -> Result<Stat> {
        self.call(&Request::SetAttr { node, attr: *attr }, |d, _| get_stat(d))
    }

    /// The value of extended attribute `name` (only `user.*` is served).
    pub fn getxattr(&self, node: NodeId, name: &[u8]) -> Result<Vec<u8>> {
        self.call(&Request::GetXattr { node, name }, |d, _| {
            Ok(d.bytes()?.to_vec())
        })
    }

    /// Sets extended attribute `name`; `flags` is 0, `XATTR_CREATE` or
    /// `XATTR_REPLACE`.
    pub fn setxattr(&self, node: NodeId, name: &[u8], value: &[u8], flags: i32) -> Result<()> {
        self.call(
            &Request::SetXattr {
                node,
                name,
                value,
                flags,
            },
            |_, _| Ok(()),
        )
    }

    /// The names of the node's (`user.*`) extended attributes.
    pub fn listxattr(&self, node: NodeId) -> Result<Vec<Vec<u8>>> {
        self.call(&Request::ListXattr { node }, |d, _| {
            let n = d.u32()? as usize;
            if n > d.remaining() / 4 {
                return Err(Error::Protocol("bad xattr count".into()));
            }
            (0..n).map(|_| Ok(d.bytes()?.to_vec())).collect()
        })
    }

    /// Removes extended attribute `name`.
    pub fn removexattr(&self, node: NodeId, name: &[u8]) -> Result<()> {
        self.call(&Request::RemoveXattr { node, name }, |_, _| Ok(()))
    }

    /// Releases the server's node. Best effort and asynchronous: the server
    /// sends no reply, so this never waits and never fails loudly.
    pub fn close(&self, node: NodeId) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if inner.broken {
            return;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        if (Request::Close { node })
            .encode(id, &mut inner.buf)
            .is_err()
        {
            return;
        }
        if let Err(e) = send_frame(inner.sock.as_fd(), &inner.buf, &[]) {
            log::debug!("gofer: close of {node:?} failed: {e}");
            inner.broken = true;
        }
    }
}
