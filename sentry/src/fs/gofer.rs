//! Files served by a gofer: every node is a handle in the gofer, opened
//! files are host fds the gofer donated.
//!
//! A gofer round trip costs two context switches, so what cannot change
//! behind our back is cached: symlink targets (a symlink is never rewritten
//! in place), names known to be absent in a read-only mount, and one
//! read-only host fd per recently opened file (reads are positioned, so
//! open files can share it).

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::{Arc, OnceLock};

use gofer::{Client, NodeId};
use parking_lot::Mutex;

use super::host::HostFile;
use crate::errno::Errno;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, SetAttr, Stat};

/// One gofer connection: one mount.
pub struct GoferFs {
    client: Client,
    readonly: bool,
    read_fds: Mutex<ReadFdCache>,
}

/// How many read-only host fds a mount keeps open for reuse.
const READ_FD_CACHE: usize = 128;
/// How many absent names one directory of a read-only mount remembers.
const ABSENT_CACHE: usize = 256;

/// Read-only host fds of recently opened files, least recently used first
/// out.
#[derive(Default)]
struct ReadFdCache {
    fds: HashMap<NodeId, Arc<OwnedFd>>,
    order: VecDeque<NodeId>,
}

impl ReadFdCache {
    fn get(&mut self, node: NodeId) -> Option<Arc<OwnedFd>> {
        let fd = self.fds.get(&node)?.clone();
        self.order.retain(|&n| n != node);
        self.order.push_back(node);
        Some(fd)
    }

    fn insert(&mut self, node: NodeId, fd: Arc<OwnedFd>) {
        if self.fds.insert(node, fd).is_none() {
            self.order.push_back(node);
        }
        while self.order.len() > READ_FD_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.fds.remove(&old);
            }
        }
    }

    fn remove(&mut self, node: NodeId) {
        if self.fds.remove(&node).is_some() {
            self.order.retain(|&n| n != node);
        }
    }
}

impl GoferFs {
    /// A filesystem over `client`; returns its root inode.
    pub fn mount(client: Client, readonly: bool) -> Result<Arc<GoferInode>, Errno> {
        let fs = Arc::new(GoferFs {
            client,
            readonly,
            read_fds: Mutex::default(),
        });
        let (node, stat) = fs.client.root()?;
        Ok(GoferInode::new(fs, node, stat))
    }
}

/// A file in a gofer-served tree.
pub struct GoferInode {
    fs: Arc<GoferFs>,
    node: NodeId,
    /// Attributes as last seen; refreshed on stat for writable mounts.
    stat: Mutex<Stat>,
    /// The target, once read, of a symlink.
    link: OnceLock<Vec<u8>>,
    /// Names looked up in vain (read-only mounts only).
    absent: Mutex<HashSet<Vec<u8>>>,
}

impl GoferInode {
    fn new(fs: Arc<GoferFs>, node: NodeId, stat: gofer::Stat) -> Arc<GoferInode> {
        Arc::new(GoferInode {
            fs,
            node,
            stat: Mutex::new(stat.into()),
            link: OnceLock::new(),
            absent: Mutex::default(),
        })
    }

    fn child(&self, node: NodeId, stat: gofer::Stat) -> Arc<GoferInode> {
        GoferInode::new(self.fs.clone(), node, stat)
    }

    /// A host fd open for reading, shared with other readers.
    fn read_fd(&self) -> Result<Arc<OwnedFd>, Errno> {
        if let Some(fd) = self.fs.read_fds.lock().get(self.node) {
            return Ok(fd);
        }
        let fd = Arc::new(self.fs.client.open(self.node, libc::O_RDONLY)?);
        self.fs.read_fds.lock().insert(self.node, fd.clone());
        Ok(fd)
    }

    fn writable(&self) -> Result<(), Errno> {
        if self.fs.readonly {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }
}

impl Drop for GoferInode {
    fn drop(&mut self) {
        self.fs.read_fds.lock().remove(self.node);
        self.fs.client.close(self.node);
    }
}

impl Inode for GoferInode {
    fn stat(&self) -> Result<Stat, Errno> {
        if !self.fs.readonly {
            let s: Stat = self.fs.client.stat(self.node)?.into();
            *self.stat.lock() = s;
            return Ok(s);
        }
        Ok(*self.stat.lock())
    }

    fn open(self: Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        let stat = *self.stat.lock();
        if stat.is_dir() {
            if flags & libc::O_ACCMODE != libc::O_RDONLY {
                return Err(Errno::EISDIR);
            }
            return Ok(Box::new(DirFile(self)));
        }
        if stat.is_symlink() {
            return Err(Errno::ELOOP);
        }
        let wanted = flags & (libc::O_ACCMODE | libc::O_TRUNC | libc::O_APPEND | libc::O_DIRECT);
        if wanted & (libc::O_ACCMODE | libc::O_TRUNC) != libc::O_RDONLY {
            self.writable()?;
        }
        if wanted == libc::O_RDONLY && stat.is_reg() {
            return Ok(Box::new(HostFile::shared(self.read_fd()?)));
        }
        let fd = self.fs.client.open(self.node, wanted)?;
        Ok(Box::new(HostFile::new(fd, false)))
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.fs.readonly && self.absent.lock().contains(name) {
            return Err(Errno::ENOENT);
        }
        match self.fs.client.walk(self.node, name) {
            Ok((node, stat)) => Ok(self.child(node, stat)),
            Err(e) => {
                let e = Errno::from(e);
                if self.fs.readonly && e == Errno::ENOENT {
                    let mut absent = self.absent.lock();
                    if absent.len() >= ABSENT_CACHE {
                        absent.clear();
                    }
                    absent.insert(name.to_vec());
                }
                Err(e)
            }
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .fs
            .client
            .getdents(self.node)?
            .into_iter()
            .map(|e| DirEntry {
                name: e.name,
                ino: e.ino,
                kind: e.kind,
            })
            .collect())
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if let Some(l) = self.link.get() {
            return Ok(l.clone());
        }
        let l = self.fs.client.readlink(self.node)?;
        Ok(self.link.get_or_init(|| l).clone())
    }

    fn create(&self, name: &[u8], mode: u32) -> Result<Arc<dyn Inode>, Errno> {
        self.writable()?;
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
        let (node, stat, _fd) = self.fs.client.create(self.node, name, flags, mode, 0, 0)?;
        Ok(self.child(node, stat))
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> Result<(), Errno> {
        self.writable()?;
        let (node, _) = self.fs.client.mkdir(self.node, name, mode, 0, 0)?;
        self.fs.client.close(node);
        Ok(())
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (node, _) = self.fs.client.symlink(self.node, name, target, 0, 0)?;
        self.fs.client.close(node);
        Ok(())
    }

    fn mknod(&self, name: &[u8], mode: u32, rdev: u64) -> Result<(), Errno> {
        self.writable()?;
        let (node, _) = self.fs.client.mknod(self.node, name, mode, rdev, 0, 0)?;
        self.fs.client.close(node);
        Ok(())
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        self.writable()?;
        let t = target
            .as_any()
            .downcast_ref::<GoferInode>()
            .filter(|t| Arc::ptr_eq(&t.fs, &self.fs))
            .ok_or(Errno::EXDEV)?;
        let (node, _) = self.fs.client.link(t.node, self.node, name)?;
        self.fs.client.close(node);
        Ok(())
    }

    fn exchange(&self, name: &[u8], other_dir: &dyn Inode, other: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let to = other_dir
            .as_any()
            .downcast_ref::<GoferInode>()
            .filter(|t| Arc::ptr_eq(&t.fs, &self.fs))
            .ok_or(Errno::EXDEV)?;
        Ok(self
            .fs
            .client
            .rename(self.node, name, to.node, other, libc::RENAME_EXCHANGE)?)
    }

    fn get_xattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        Ok(self.fs.client.getxattr(self.node, name)?)
    }

    fn set_xattr(&self, name: &[u8], value: &[u8], flags: i32) -> Result<(), Errno> {
        self.writable()?;
        Ok(self.fs.client.setxattr(self.node, name, value, flags)?)
    }

    fn remove_xattr(&self, name: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        Ok(self.fs.client.removexattr(self.node, name)?)
    }

    fn list_xattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(self.fs.client.listxattr(self.node)?)
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        self.writable()?;
        let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
        Ok(self.fs.client.unlink(self.node, name, flags)?)
    }

    fn rename(&self, old: &[u8], new_dir: &dyn Inode, new: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let to = new_dir
            .as_any()
            .downcast_ref::<GoferInode>()
            .filter(|t| Arc::ptr_eq(&t.fs, &self.fs))
            .ok_or(Errno::EXDEV)?;
        Ok(self.fs.client.rename(self.node, old, to.node, new, 0)?)
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.writable()?;
        let t = |t: crate::vfs::Timespec| {
            gofer::TimeSet::At(gofer::Timespec {
                sec: t.sec,
                nsec: t.nsec,
            })
        };
        let a = gofer::SetAttr {
            mode: attr.mode,
            uid: attr.uid,
            gid: attr.gid,
            size: attr.size,
            atime: attr.atime.map(t),
            mtime: attr.mtime.map(t),
        };
        let s = self.fs.client.setattr(self.node, &a)?;
        *self.stat.lock() = s.into();
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
