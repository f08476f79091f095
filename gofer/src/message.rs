//! Gofer requests and reply payloads, on top of [`crate::wire`].
//!
//! Each request is `u64 id | u16 opcode | fields` in the order of the
//! [`Request`] variant's fields: node ids are `u64`, names and byte strings
//! length-prefixed, `Option`al attributes are preceded by a `u8` presence
//! flag. Replies (see [`ReplyHeader`]) carry the request's id, an errno and,
//! on success, the payload documented on each [`Op`].

use crate::wire::{Decoder, Encoder};
use crate::{DirEntry, Error, NodeId, Result, SetAttr, Stat, StatFs, TimeSet, Timespec};

/// Most components one walk request may carry (the client splits longer
/// walks), so that a walk reply always fits in [`crate::wire::MAX_MESSAGE`].
pub const MAX_WALK: usize = 1024;

/// Operation codes. The comment on each says what a successful reply holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Op {
    /// → `node, stat` of a fresh node for the root.
    Root = 1,
    /// → `u32 count, (node, stat)*`.
    Walk = 2,
    /// → `stat`.
    Stat = 3,
    /// → nothing, one fd.
    Open = 4,
    /// → `bytes target`.
    Readlink = 5,
    /// → `i64 next_offset, u8 eof, u32 count, (u64 ino, u8 kind, bytes name)*`.
    Getdents = 6,
    /// → `statfs`.
    Statfs = 7,
    /// → `node, stat`, one fd.
    Create = 8,
    /// → `node, stat`.
    Mkdir = 9,
    /// → `node, stat`.
    Mknod = 10,
    /// → `node, stat`.
    Symlink = 11,
    /// → `node, stat`.
    Link = 12,
    /// → nothing.
    Unlink = 13,
    /// → nothing.
    Rename = 14,
    /// → `stat`.
    SetAttr = 15,
    /// → `bytes value`.
    GetXattr = 16,
    /// → nothing.
    SetXattr = 17,
    /// → `u32 count, bytes*`.
    ListXattr = 18,
    /// → nothing.
    RemoveXattr = 19,
    /// No reply at all: the client does not wait for one.
    Close = 20,
}

impl Op {
    /// The opcode for a wire value, if any.
    pub fn from_u16(v: u16) -> Option<Op> {
        use Op::*;
        Some(match v {
            1 => Root,
            2 => Walk,
            3 => Stat,
            4 => Open,
            5 => Readlink,
            6 => Getdents,
            7 => Statfs,
            8 => Create,
            9 => Mkdir,
            10 => Mknod,
            11 => Symlink,
            12 => Link,
            13 => Unlink,
            14 => Rename,
            15 => SetAttr,
            16 => GetXattr,
            17 => SetXattr,
            18 => ListXattr,
            19 => RemoveXattr,
            20 => Close,
            _ => return None,
        })
    }
}

/// One request, borrowing names and values from the frame it was decoded
/// from (or from the caller when encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // Field meanings are those of the `Client` methods.
pub enum Request<'a> {
    Root,
    Walk {
        dir: NodeId,
        names: Vec<&'a [u8]>,
    },
    Stat {
        node: NodeId,
    },
    Open {
        node: NodeId,
        flags: i32,
    },
    Readlink {
        node: NodeId,
    },
    Getdents {
        dir: NodeId,
        offset: i64,
    },
    Statfs {
        node: NodeId,
    },
    Create {
        dir: NodeId,
        name: &'a [u8],
        flags: i32,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Mkdir {
        dir: NodeId,
        name: &'a [u8],
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Mknod {
        dir: NodeId,
        name: &'a [u8],
        mode: u32,
        rdev: u64,
        uid: u32,
        gid: u32,
    },
    Symlink {
        dir: NodeId,
        name: &'a [u8],
        target: &'a [u8],
        uid: u32,
        gid: u32,
    },
    Link {
        target: NodeId,
        dir: NodeId,
        name: &'a [u8],
    },
    Unlink {
        dir: NodeId,
        name: &'a [u8],
        flags: i32,
    },
    Rename {
        old_dir: NodeId,
        old_name: &'a [u8],
        new_dir: NodeId,
        new_name: &'a [u8],
        flags: u32,
    },
    SetAttr {
        node: NodeId,
        attr: SetAttr,
    },
    GetXattr {
        node: NodeId,
        name: &'a [u8],
    },
    SetXattr {
        node: NodeId,
        name: &'a [u8],
        value: &'a [u8],
        flags: i32,
    },
    ListXattr {
        node: NodeId,
    },
    RemoveXattr {
        node: NodeId,
        name: &'a [u8],
    },
    Close {
        node: NodeId,
    },
}

impl<'a> Request<'a> {
    /// The request's opcode.
    pub fn op(&self) -> Op {
        match self {
            Request::Root => Op::Root,
            Request::Walk { .. } => Op::Walk,
            Request::Stat { .. } => Op::Stat,
            Request::Open { .. } => Op::Open,
            Request::Readlink { .. } => Op::Readlink,
            Request::Getdents { .. } => Op::Getdents,
            Request::Statfs { .. } => Op::Statfs,
            Request::Create { .. } => Op::Create,
            Request::Mkdir { .. } => Op::Mkdir,
            Request::Mknod { .. } => Op::Mknod,
            Request::Symlink { .. } => Op::Symlink,
            Request::Link { .. } => Op::Link,
            Request::Unlink { .. } => Op::Unlink,
            Request::Rename { .. } => Op::Rename,
            Request::SetAttr { .. } => Op::SetAttr,
            Request::GetXattr { .. } => Op::GetXattr,
            Request::SetXattr { .. } => Op::SetXattr,
            Request::ListXattr { .. } => Op::ListXattr,
            Request::RemoveXattr { .. } => Op::RemoveXattr,
            Request::Close { .. } => Op::Close,
        }
    }

    /// Whether the operation changes the filesystem (refused with `EROFS` by
    /// a read-only server).
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Request::Create { .. }
                | Request::Mkdir { .. }
                | Request::Mknod { .. }
                | Request::Symlink { .. }
                | Request::Link { .. }
                | Request::Unlink { .. }
                | Request::Rename { .. }
                | Request::SetAttr { .. }
                | Request::SetXattr { .. }
                | Request::RemoveXattr { .. }
        )
    }

    /// Encodes the request as a complete frame with id `id` into `buf`.
    pub fn encode(&self, id: u64, buf: &mut Vec<u8>) -> Result<()> {
        let mut e = Encoder::new_frame(buf);
        e.u64(id).u16(self.op() as u16);
        match self {
            Request::Root => {}
            Request::Walk { dir, names } => {
                e.u64(dir.0).u32(names.len() as u32);
                for n in names {
                    e.bytes(n);
                }
            }
            Request::Stat { node }
            | Request::Readlink { node }
            | Request::Statfs { node }
            | Request::ListXattr { node }
            | Request::Close { node } => {
                e.u64(node.0);
            }
            Request::Open { node, flags } => {
                e.u64(node.0).i32(*flags);
            }
            Request::Getdents { dir, offset } => {
                e.u64(dir.0).i64(*offset);
            }
            Request::Create {
                dir,
                name,
                flags,
                mode,
                uid,
                gid,
            } => {
                e.u64(dir.0)
                    .bytes(name)
                    .i32(*flags)
                    .u32(*mode)
                    .u32(*uid)
                    .u32(*gid);
            }
            Request::Mkdir {
                dir,
                name,
                mode,
                uid,
                gid,
            } => {
                e.u64(dir.0).bytes(name).u32(*mode).u32(*uid).u32(*gid);
            }
            Request::Mknod {
                dir,
                name,
                mode,
                rdev,
                uid,
                gid,
            } => {
                e.u64(dir.0)
                    .bytes(name)
                    .u32(*mode)
                    .u64(*rdev)
                    .u32(*uid)
                    .u32(*gid);
            }
            Request::Symlink {
                dir,
                name,
                target,
                uid,
                gid,
            } => {
                e.u64(dir.0).bytes(name).bytes(target).u32(*uid).u32(*gid);
            }
            Request::Link { target, dir, name } => {
                e.u64(target.0).u64(dir.0).bytes(name);
            }
            Request::Unlink { dir, name, flags } => {
                e.u64(dir.0).bytes(name).i32(*flags);
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => {
                e.u64(old_dir.0)
                    .bytes(old_name)
                    .u64(new_dir.0)
                    .bytes(new_name)
                    .u32(*flags);
            }
            Request::SetAttr { node, attr } => {
                e.u64(node.0);
                put_setattr(&mut e, attr);
            }
            Request::GetXattr { node, name } | Request::RemoveXattr { node, name } => {
                e.u64(node.0).bytes(name);
            }
            Request::SetXattr {
                node,
                name,
                value,
                flags,
            } => {
                e.u64(node.0).bytes(name).bytes(value).i32(*flags);
            }
        }
        e.finish()
    }

    /// Splits a received request frame into its id and the decoder for the
    /// rest. Fails only if the frame is too short to hold an id.
    pub fn decode_id(body: &'a [u8]) -> Result<(u64, Decoder<'a>)> {
        let mut d = Decoder::new(body);
        let id = d.u64()?;
        Ok((id, d))
    }

    /// Decodes the opcode and fields after the id; every malformation
    /// (unknown opcode, short frame, trailing bytes) is an error.
    pub fn decode(mut d: Decoder<'a>) -> Result<Request<'a>> {
        let op = d.u16()?;
        let op = Op::from_u16(op).ok_or_else(|| Error::Protocol(format!("unknown opcode {op}")))?;
        let node = |d: &mut Decoder<'a>| d.u64().map(NodeId);
        let r = match op {
            Op::Root => Request::Root,
            Op::Walk => {
                let dir = node(&mut d)?;
                let count = d.u32()? as usize;
                // Every name takes at least its 4-byte length: bound the
                // allocation by what the frame can actually hold.
                if count > d.remaining() / 4 || count > MAX_WALK {
                    return Err(Error::Protocol("bad walk count".into()));
                }
                let mut names = Vec::with_capacity(count);
                for _ in 0..count {
                    names.push(d.bytes()?);
                }
                Request::Walk { dir, names }
            }
            Op::Stat => Request::Stat {
                node: node(&mut d)?,
            },
            Op::Open => Request::Open {
                node: node(&mut d)?,
                flags: d.i32()?,
            },
            Op::Readlink => Request::Readlink {
                node: node(&mut d)?,
            },
            Op::Getdents => Request::Getdents {
                dir: node(&mut d)?,
                offset: d.i64()?,
            },
            Op::Statfs => Request::Statfs {
                node: node(&mut d)?,
            },
            Op::Create => Request::Create {
                dir: node(&mut d)?,
                name: d.bytes()?,
                flags: d.i32()?,
                mode: d.u32()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            Op::Mkdir => Request::Mkdir {
                dir: node(&mut d)?,
                name: d.bytes()?,
                mode: d.u32()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            Op::Mknod => Request::Mknod {
                dir: node(&mut d)?,
                name: d.bytes()?,
                mode: d.u32()?,
                rdev: d.u64()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            Op::Symlink => Request::Symlink {
                dir: node(&mut d)?,
                name: d.bytes()?,
                target: d.bytes()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            Op::Link => Request::Link {
                target: node(&mut d)?,
                dir: node(&mut d)?,
                name: d.bytes()?,
            },
            Op::Unlink => Request::Unlink {
                dir: node(&mut d)?,
                name: d.bytes()?,
                flags: d.i32()?,
            },
            Op::Rename => Request::Rename {
                old_dir: node(&mut d)?,
                old_name: d.bytes()?,
                new_dir: node(&mut d)?,
                new_name: d.bytes()?,
                flags: d.u32()?,
            },
            Op::SetAttr => Request::SetAttr {
                node: node(&mut d)?,
                attr: get_setattr(&mut d)?,
            },
            Op::GetXattr => Request::GetXattr {
                node: node(&mut d)?,
                name: d.bytes()?,
            },
            Op::SetXattr => Request::SetXattr {
                node: node(&mut d)?,
                name: d.bytes()?,
                value: d.bytes()?,
                flags: d.i32()?,
            },
            Op::ListXattr => Request::ListXattr {
                node: node(&mut d)?,
            },
            Op::RemoveXattr => Request::RemoveXattr {
                node: node(&mut d)?,
                name: d.bytes()?,
            },
            Op::Close => Request::Close {
                node: node(&mut d)?,
            },
        };
        d.finish()?;
        Ok(r)
    }
}

/// The fixed part of every reply: `u64 id | i32 errno | u8 nfds`. The payload
/// follows only when `errno == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The id of the request this answers.
    pub id: u64,
    /// 0 on success, else the errno.
    pub errno: i32,
    /// How many fds came with the reply.
    pub nfds: u8,
}

impl ReplyHeader {
    /// Starts a reply frame in `buf`; the caller appends the payload and
    /// finishes the encoder.
    pub fn encode<'b>(&self, buf: &'b mut Vec<u8>) -> Encoder<'b> {
        let mut e = Encoder::new_frame(buf);
        e.u64(self.id).i32(self.errno).u8(self.nfds);
        e
    }
    /// Decodes the header of a received reply frame.
    pub fn decode(d: &mut Decoder<'_>) -> Result<ReplyHeader> {
        Ok(ReplyHeader {
            id: d.u64()?,
            errno: d.i32()?,
            nfds: d.u8()?,
        })
    }
}

fn put_time(e: &mut Encoder<'_>, t: &Timespec) {
    e.i64(t.sec).i64(t.nsec);
}

fn get_time(d: &mut Decoder<'_>) -> Result<Timespec> {
    Ok(Timespec {
        sec: d.i64()?,
        nsec: d.i64()?,
    })
}

/// Encodes a [`Stat`] (116 bytes, fields in declaration order).
pub fn put_stat(e: &mut Encoder<'_>, s: &Stat) {
    e.u64(s.dev)
        .u64(s.ino)
        .u32(s.mode)
        .u64(s.nlink)
        .u32(s.uid)
        .u32(s.gid)
        .u64(s.rdev);
    e.i64(s.size).i64(s.blksize).i64(s.blocks);
    put_time(e, &s.atime);
    put_time(e, &s.mtime);
    put_time(e, &s.ctime);
}

/// Decodes a [`Stat`].
pub fn get_stat(d: &mut Decoder<'_>) -> Result<Stat> {
    Ok(Stat {
        dev: d.u64()?,
        ino: d.u64()?,
        mode: d.u32()?,
        nlink: d.u64()?,
        uid: d.u32()?,
        gid: d.u32()?,
        rdev: d.u64()?,
        size: d.i64()?,
        blksize: d.i64()?,
        blocks: d.i64()?,
        atime: get_time(d)?,
        mtime: get_time(d)?,
        ctime: get_time(d)?,
    })
}

/// Encodes a [`StatFs`] (fields in declaration order).
pub fn put_statfs(e: &mut Encoder<'_>, s: &StatFs) {
    e.i64(s.fs_type)
        .i64(s.bsize)
        .u64(s.blocks)
        .u64(s.bfree)
        .u64(s.bavail);
    e.u64(s.files)
        .u64(s.ffree)
        .i64(s.namelen)
        .i64(s.frsize)
        .i64(s.flags);
}

/// Decodes a [`StatFs`].
pub fn get_statfs(d: &mut Decoder<'_>) -> Result<StatFs> {
    Ok(StatFs {
        fs_type: d.i64()?,
        bsize: d.i64()?,
        blocks: d.u64()?,
        bfree: d.u64()?,
        bavail: d.u64()?,
        files: d.u64()?,
        ffree: d.u64()?,
        namelen: d.i64()?,
        frsize: d.i64()?,
        flags: d.i64()?,
    })
}

/// Encodes one [`DirEntry`]: `u64 ino | u8 kind | bytes name`.
pub fn put_dirent(e: &mut Encoder<'_>, ino: u64, kind: u8, name: &[u8]) {
    e.u64(ino).u8(kind).bytes(name);
}

/// Decodes one [`DirEntry`].
pub fn get_dirent(d: &mut Decoder<'_>) -> Result<DirEntry> {
    Ok(DirEntry {
        ino: d.u64()?,
        kind: d.u8()?,
        name: d.bytes()?.to_vec(),
    })
}

fn put_opt_u32(e: &mut Encoder<'_>, v: Option<u32>) {
    match v {
        Some(v) => e.u8(1).u32(v),
        None => e.u8(0),
    };
}

fn get_opt_u32(d: &mut Decoder<'_>) -> Result<Option<u32>> {
    match d.u8()? {
        0 => Ok(None),
        1 => Ok(Some(d.u32()?)),
        _ => Err(Error::Protocol("bad option tag".into())),
    }
}

fn put_timeset(e: &mut Encoder<'_>, t: Option<TimeSet>) {
    match t {
        None => {
            e.u8(0);
        }
        Some(TimeSet::Now) => {
            e.u8(1);
        }
        Some(TimeSet::At(t)) => {
            e.u8(2);
            put_time(e, &t);
        }
    }
}

fn get_timeset(d: &mut Decoder<'_>) -> Result<Option<TimeSet>> {
    match d.u8()? {
        0 => Ok(None),
        1 => Ok(Some(TimeSet::Now)),
        2 => Ok(Some(TimeSet::At(get_time(d)?))),
        _ => Err(Error::Protocol("bad time tag".into())),
    }
}

/// Encodes a [`SetAttr`]: each field preceded by a presence tag
/// (times: 0 none, 1 now, 2 explicit).
pub fn put_setattr(e: &mut Encoder<'_>, a: &SetAttr) {
    put_opt_u32(e, a.mode);
    put_opt_u32(e, a.uid);
    put_opt_u32(e, a.gid);
    match a.size {
        Some(s) => e.u8(1).u64(s),
        None => e.u8(0),
    };
    put_timeset(e, a.atime);
    put_timeset(e, a.mtime);
}

/// Decodes a [`SetAttr`].
pub fn get_setattr(d: &mut Decoder<'_>) -> Result<SetAttr> {
    let mode = get_opt_u32(d)?;
    let uid = get_opt_u32(d)?;
    let gid = get_opt_u32(d)?;
    let size = match d.u8()? {
        0 => None,
        1 => Some(d.u64()?),
        _ => return Err(Error::Protocol("bad option tag".into())),
    };
    Ok(SetAttr {
        mode,
        uid,
        gid,
        size,
        atime: get_timeset(d)?,
        mtime: get_timeset(d)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_roundtrip() {
        let attr = SetAttr {
            mode: Some(0o644),
            uid: None,
            gid: Some(5),
            size: Some(9),
            atime: Some(TimeSet::Now),
            mtime: Some(TimeSet::At(Timespec { sec: 1, nsec: 2 })),
        };
        let reqs = [
            Request::Root,
            Request::Walk {
                dir: NodeId(3),
                names: vec![b"a", b"bc"],
            },
            Request::Create {
                dir: NodeId(1),
                name: b"f",
                flags: 2,
                mode: 0o600,
                uid: 1,
                gid: 2,
            },
            Request::Rename {
                old_dir: NodeId(1),
                old_name: b"x",
                new_dir: NodeId(2),
                new_name: b"y",
                flags: 1,
            },
            Request::SetAttr {
                node: NodeId(7),
                attr,
            },
            Request::SetXattr {
                node: NodeId(7),
                name: b"user.a",
                value: b"v",
                flags: 0,
            },
        ];
        let mut buf = Vec::new();
        for r in reqs {
            r.encode(42, &mut buf).unwrap();
            let (id, d) = Request::decode_id(&buf[4..]).unwrap();
            assert_eq!(id, 42);
            assert_eq!(Request::decode(d).unwrap(), r);
        }
    }

    #[test]
    fn malformed_requests_fail() {
        let mut buf = Vec::new();
        Request::Walk {
            dir: NodeId(3),
            names: vec![b"a"],
        }
        .encode(1, &mut buf)
        .unwrap();
        for cut in 4..buf.len() - 1 {
            if let Ok((_, d)) = Request::decode_id(&buf[4..cut]) {
                assert!(Request::decode(d).is_err());
            }
        }
        let mut bad = buf[4..].to_vec();
        bad[8] = 0xee; // unknown opcode
        let (_, d) = Request::decode_id(&bad).unwrap();
        assert!(Request::decode(d).is_err());
        let mut long = buf[4..].to_vec();
        long.push(0);
        let (_, d) = Request::decode_id(&long).unwrap();
        assert!(Request::decode(d).is_err());
    }
}
