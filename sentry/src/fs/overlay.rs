//! An overlay: a read-only lower tree (usually the gofer's) under a tmpfs
//! upper layer that takes every change. Writes never reach the lower tree;
//! the upper layer is thrown away with the sandbox.
//!
//! A file is copied up to the upper layer when it is opened for writing or
//! its attributes change. Deleted lower names are hidden ("whiteouts") by
//! the directory's upper copy, so that they outlive any one lookup; a name
//! hidden and then created again is opaque: its lower namesake stays
//! hidden.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use super::tmpfs::{self, TmpfsInode};
use crate::errno::Errno;
use crate::vfs::{DirEntry, DirFile, FileOps, Inode, SetAttr, Stat};

/// A file in the overlay.
pub struct OverlayInode {
    me: Weak<OverlayInode>,
    parent: Option<Arc<OverlayInode>>,
    name: Vec<u8>,
    lower: Option<Arc<dyn Inode>>,
    upper: RwLock<Option<Arc<TmpfsInode>>>,
}

impl OverlayInode {
    /// The root of an overlay over `lower`.
    pub fn new_root(lower: Arc<dyn Inode>) -> Arc<OverlayInode> {
        Self::new(None, b"/".to_vec(), Some(lower), None)
    }

    fn new(
        parent: Option<Arc<OverlayInode>>,
        name: Vec<u8>,
        lower: Option<Arc<dyn Inode>>,
        upper: Option<Arc<TmpfsInode>>,
    ) -> Arc<OverlayInode> {
        Arc::new_cyclic(|me| OverlayInode {
            me: me.clone(),
            parent,
            name,
            lower,
            upper: RwLock::new(upper),
        })
    }

    fn upper(&self) -> Option<Arc<TmpfsInode>> {
        self.upper.read().clone()
    }

    /// Whether this directory hides the lower entry `name`.
    fn is_hidden(&self, name: &[u8]) -> bool {
        self.upper().is_some_and(|u| u.hides(name))
    }

    /// Hides the lower entry `name` (deleted or replaced).
    fn hide(&self, name: &[u8]) -> Result<(), Errno> {
        self.copy_up()?.hide(name);
        Ok(())
    }

    fn merged_stat(&self) -> Result<Stat, Errno> {
        match (self.upper(), &self.lower) {
            (Some(u), Some(l)) => {
                let us = u.stat()?;
                let mut s = l.stat()?;
                if s.is_dir() {
                    // Keep the lower directory's size and link count, so an
                    // untouched tree looks exactly like the host's.
                    s.mode = us.mode;
                    s.uid = us.uid;
                    s.gid = us.gid;
                    s.atime = us.atime;
                    s.mtime = us.mtime;
                    s.ctime = us.ctime;
                    Ok(s)
                } else {
                    Ok(Stat {
                        ino: s.ino,
                        dev: s.dev,
                        ..us
                    })
                }
            }
            (Some(u), None) => u.stat(),
            (None, Some(l)) => l.stat(),
            (None, None) => Err(Errno::ENOENT),
        }
    }

    fn child(&self, name: &[u8]) -> Result<Arc<OverlayInode>, Errno> {
        let upper = self.upper().and_then(|u| u.get(name).ok());
        let upper_is_dir = match &upper {
            Some(u) => Some(u.stat()?.is_dir()),
            None => None,
        };
        let lower = match (&self.lower, upper_is_dir) {
            (Some(l), None | Some(true)) if !self.is_hidden(name) => match l.lookup(name) {
                Ok(c) => Some(c),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(e),
            },
            _ => None,
        };
        // A directory in the upper layer only merges with a lower directory.
        let lower = match (lower, upper_is_dir) {
            (Some(l), Some(true)) if !l.stat()?.is_dir() => None,
            (l, _) => l,
        };
        if upper.is_none() && lower.is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(Self::new(self.me.upgrade(), name.to_vec(), lower, upper))
    }

    /// Makes sure this file exists in the upper layer, copying it and its
    /// ancestors up if needed.
    fn copy_up(&self) -> Result<Arc<TmpfsInode>, Errno> {
        let mut slot = self.upper.write();
        if let Some(u) = slot.as_ref() {
            return Ok(u.clone());
        }
        let lower = self.lower.as_ref().ok_or(Errno::EIO)?;
        let st = lower.stat()?;
        let Some(parent) = &self.parent else {
            let root = TmpfsInode::new_root(st.mode);
            root.setattr(&SetAttr {
                uid: Some(st.uid),
                gid: Some(st.gid),
                atime: Some(st.atime),
                mtime: Some(st.mtime),
                ..SetAttr::default()
            })?;
            *slot = Some(root.clone());
            return Ok(root);
        };
        let parent = parent.copy_up()?;
        let up = match st.file_type() {
            libc::S_IFDIR => parent.create_dir(&self.name, st.mode)?,
            libc::S_IFLNK => parent.create_symlink(&self.name, &lower.readlink()?)?,
            libc::S_IFREG => {
                let f = lower.clone().open(libc::O_RDONLY)?;
                let mut data = vec![0u8; st.size.max(0) as usize];
                let mut done = 0;
                while done < data.len() {
                    let n = f.read(&mut data[done..], done as u64)?;
                    if n == 0 {
                        break;
                    }
                    done += n;
                }
                data.truncate(done);
                parent.create_file(&self.name, st.mode, data)?
            }
            _ => return Err(Errno::EPERM),
        };
        up.setattr(&SetAttr {
            uid: Some(st.uid),
            gid: Some(st.gid),
            atime: Some(st.atime),
            mtime: Some(st.mtime),
            ..SetAttr::default()
        })?;
        *slot = Some(up.clone());
        Ok(up)
    }

    fn merged_readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut out: Vec<DirEntry> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        if let Some(l) = &self.lower {
            let up = self.upper();
            for e in l.readdir()? {
                if !up.as_ref().is_some_and(|u| u.hides(&e.name)) {
                    index.insert(e.name.clone(), out.len());
                    out.push(e);
                }
            }
        }
        if let Some(u) = self.upper() {
            for e in u.readdir()? {
                match index.get(&e.name) {
                    Some(&i) => out[i].kind = e.kind,
                    None => out.push(e),
                }
            }
        }
        Ok(out)
    }

    /// Creates `name` in the upper layer with `make`, after checking it does
    /// not exist in the merged view.
    fn create_with(
        &self,
        name: &[u8],
        make: impl FnOnce(&TmpfsInode) -> Result<(), Errno>,
    ) -> Result<Arc<OverlayInode>, Errno> {
        if self.child(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        let u = self.copy_up()?;
        make(&u)?;
        self.hide(name)?;
        self.child(name)
    }
}

impl Inode for OverlayInode {
    fn stat(&self) -> Result<Stat, Errno> {
        self.merged_stat()
    }

    fn open(self: Arc<Self>, flags: i32) -> Result<Box<dyn FileOps>, Errno> {
        let is_dir = self.merged_stat()?.is_dir();
        if is_dir {
            if flags & libc::O_ACCMODE != libc::O_RDONLY {
                return Err(Errno::EISDIR);
            }
            return Ok(Box::new(DirFile(self)));
        }
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        if writes {
            self.copy_up()?;
        }
        match (self.upper(), &self.lower) {
            (Some(u), _) => tmpfs::open(&u, flags),
            (None, Some(l)) => l.clone().open(flags),
            (None, None) => Err(Errno::ENOENT),
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.child(name)?)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.merged_readdir()
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match (self.upper(), &self.lower) {
            (Some(u), _) => u.readlink(),
            (None, Some(l)) => l.readlink(),
            (None, None) => Err(Errno::ENOENT),
        }
    }

    fn create(&self, name: &[u8], mode: u32) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.create_with(name, |u| u.create_file(name, mode, Vec::new()).map(|_| ()))?)
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> Result<(), Errno> {
        self.create_with(name, |u| u.create_dir(name, mode).map(|_| ()))
            .map(|_| ())
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        self.create_with(name, |u| u.create_symlink(name, target).map(|_| ()))
            .map(|_| ())
    }

    fn get_xattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        match (self.upper(), &self.lower) {
            (Some(u), _) => u.get_xattr(name),
            (None, Some(l)) => l.get_xattr(name),
            (None, None) => Err(Errno::ENOENT),
        }
    }

    fn set_xattr(&self, name: &[u8], value: &[u8], flags: i32) -> Result<(), Errno> {
        self.copy_up()?.set_xattr(name, value, flags)
    }

    fn remove_xattr(&self, name: &[u8]) -> Result<(), Errno> {
        self.copy_up()?.remove_xattr(name)
    }

    fn list_xattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        match (self.upper(), &self.lower) {
            (Some(u), _) => u.list_xattr(),
            (None, Some(l)) => l.list_xattr(),
            (None, None) => Err(Errno::ENOENT),
        }
    }

    fn mknod(&self, name: &[u8], mode: u32, rdev: u64) -> Result<(), Errno> {
        self.create_with(name, |u| u.create_node(name, mode, rdev).map(|_| ()))
            .map(|_| ())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        let child = self.child(name)?;
        let is_dir = child.merged_stat()?.is_dir();
        match (is_dir, dir) {
            (true, false) => return Err(Errno::EISDIR),
            (false, true) => return Err(Errno::ENOTDIR),
            (true, true) if !child.merged_readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let u = self.copy_up()?;
        if child.upper().is_some() {
            u.remove(name, dir)?;
        }
        if child.lower.is_some() {
            self.hide(name)?;
        }
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &dyn Inode, new: &[u8]) -> Result<(), Errno> {
        let to = new_dir
            .as_any()
            .downcast_ref::<OverlayInode>()
            .ok_or(Errno::EXDEV)?;
        let src = self.child(old)?;
        let src_dir = src.merged_stat()?.is_dir();
        if src_dir && src.lower.is_some() {
            // Like overlayfs without redirect_dir: callers fall back to copying.
            return Err(Errno::EXDEV);
        }
        let dst = to.child(new).ok();
        if let Some(dst) = &dst {
            if Arc::ptr_eq(&src, dst) {
                return Ok(());
            }
            let dst_dir = dst.merged_stat()?.is_dir();
            match (src_dir, dst_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dst.merged_readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        src.copy_up()?;
        let su = self.copy_up()?;
        let tu = to.copy_up()?;
        su.move_to(old, &tu, new)?;
        if src.lower.is_some() {
            self.hide(old)?;
        }
        to.hide(new)?;
        Ok(())
    }

    fn exchange(&self, name: &[u8], other_dir: &dyn Inode, other: &[u8]) -> Result<(), Errno> {
        let to = other_dir
            .as_any()
            .downcast_ref::<OverlayInode>()
            .ok_or(Errno::EXDEV)?;
        let (a, b) = (self.child(name)?, to.child(other)?);
        for c in [&a, &b] {
            if c.merged_stat()?.is_dir() && c.lower.is_some() {
                // As rename: a merged directory cannot move.
                return Err(Errno::EXDEV);
            }
            c.copy_up()?;
        }
        let su = self.copy_up()?;
        let tu = to.copy_up()?;
        su.exchange_with(name, &tu, other)?;
        self.hide(name)?;
        to.hide(other)?;
        Ok(())
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.copy_up()?.setattr(attr)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let any: Arc<dyn Any + Send + Sync> = target.clone();
        let src = any.downcast::<OverlayInode>().map_err(|_| Errno::EXDEV)?;
        if self.child(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        let up = src.copy_up()?;
        let dir = self.copy_up()?;
        dir.link_inode(name, up)?;
        self.hide(name)?;
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
