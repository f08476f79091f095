//! Files served by a gofer: every node is a handle in the gofer, opened
//! files are host fds the gofer donated.

use std::any::Any;
use std::sync::Arc;

use gofer::{Client, NodeId};
use parking_lot::Mutex;

use super::host::HostFile;
use crate::errno::Errno;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, SetAttr, Stat};

/// One gofer connection: one mount.
pub struct GoferFs {
    client: Client,
    readonly: bool,
}

impl GoferFs {
    /// A filesystem over `client`; returns its root inode.
    pub fn mount(client: Client, readonly: bool) -> Result<Arc<GoferInode>, Errno> {
        let fs = Arc::new(GoferFs { client, readonly });
        let (node, stat) = fs.client.root()?;
        Ok(Arc::new(GoferInode {
            fs,
            node,
            stat: Mutex::new(stat.into()),
        }))
    }
}

/// A file in a gofer-served tree.
pub struct GoferInode {
    fs: Arc<GoferFs>,
    node: NodeId,
    /// Attributes as last seen; refreshed on stat for writable mounts.
    stat: Mutex<Stat>,
}

impl GoferInode {
    fn child(&self, node: NodeId, stat: gofer::Stat) -> Arc<GoferInode> {
        Arc::new(GoferInode {
            fs: self.fs.clone(),
            node,
            stat: Mutex::new(stat.into()),
        })
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
        let fd = self.fs.client.open(self.node, wanted)?;
        Ok(Box::new(HostFile::new(fd, false)))
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let (node, stat) = self.fs.client.walk(self.node, name)?;
        Ok(self.child(node, stat))
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
        Ok(self.fs.client.readlink(self.node)?)
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
