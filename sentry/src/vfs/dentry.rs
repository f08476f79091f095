//! Dentries: the names of inodes, cached, with parent links for `..` and
//! getcwd, and mount points.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Inode;
use crate::errno::Errno;

/// A named inode in the tree.
pub struct Dentry {
    /// Its name in the parent ("/" for the root).
    pub name: Vec<u8>,
    /// The parent; None for the root of the sandbox.
    pub parent: Option<Arc<Dentry>>,
    /// The file.
    pub inode: Arc<dyn Inode>,
    children: Mutex<HashMap<Vec<u8>, Arc<Dentry>>>,
    mounted: Mutex<Option<Arc<Dentry>>>,
}

impl Dentry {
    /// A root dentry.
    pub fn new_root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Self::new(b"/".to_vec(), None, inode)
    }

    fn new(name: Vec<u8>, parent: Option<Arc<Dentry>>, inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Arc::new(Dentry {
            name,
            parent,
            inode,
            children: Mutex::new(HashMap::new()),
            mounted: Mutex::new(None),
        })
    }

    /// The child `name`, from the cache or the filesystem; follows mounts.
    pub fn child(self: &Arc<Self>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        if let Some(d) = self.children.lock().get(name) {
            return Ok(d.mount_top());
        }
        let inode = self.inode.lookup(name)?;
        let d = Dentry::new(name.to_vec(), Some(self.clone()), inode);
        self.children
            .lock()
            .entry(name.to_vec())
            .or_insert(d)
            .clone()
            .mount_top_ok()
    }

    fn mount_top_ok(self: Arc<Self>) -> Result<Arc<Dentry>, Errno> {
        Ok(self.mount_top())
    }

    /// What is mounted here (recursively), or self.
    pub fn mount_top(self: &Arc<Self>) -> Arc<Dentry> {
        let mut d = self.clone();
        loop {
            let next = d.mounted.lock().clone();
            match next {
                Some(m) => d = m,
                None => return d,
            }
        }
    }

    /// Removes the mount whose root is this dentry (umount2); EINVAL if
    /// nothing is mounted here.
    pub fn unmount(self: &Arc<Self>) -> Result<(), Errno> {
        let parent = self.parent.as_ref().ok_or(Errno::EINVAL)?;
        let mut d = parent
            .children
            .lock()
            .get(&self.name)
            .cloned()
            .ok_or(Errno::EINVAL)?;
        loop {
            let next = d.mounted.lock().clone().ok_or(Errno::EINVAL)?;
            if Arc::ptr_eq(&next, self) {
                *d.mounted.lock() = self.mounted.lock().take();
                return Ok(());
            }
            d = next;
        }
    }

    /// Whether this dentry is the root of a mount (other than the
    /// sandbox's root).
    pub fn is_mount_root(self: &Arc<Self>) -> bool {
        let Some(parent) = &self.parent else {
            return false;
        };
        let Some(mut d) = parent.children.lock().get(&self.name).cloned() else {
            return false;
        };
        loop {
            let next = d.mounted.lock().clone();
            match next {
                Some(n) if Arc::ptr_eq(&n, self) => return true,
                Some(n) => d = n,
                None => return false,
            }
        }
    }

    /// Mounts the filesystem whose root inode is `root` on this dentry
    /// (on top of what is mounted here already).
    pub fn mount(self: &Arc<Self>, root: Arc<dyn Inode>) -> Arc<Dentry> {
        let top = self.mount_top();
        let d = Dentry::new(top.name.clone(), top.parent.clone(), root);
        *top.mounted.lock() = Some(d.clone());
        d
    }

    /// Adds a child that exists only in the sandbox's name cache: a mount
    /// point in a filesystem that cannot create it (a read-only root).
    pub fn add_synthetic(self: &Arc<Self>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        let d = Dentry::new(name.to_vec(), Some(self.clone()), inode);
        self.children.lock().insert(name.to_vec(), d.clone());
        d
    }

    /// Forgets the cached child `name` (after unlink or rename).
    pub fn forget(&self, name: &[u8]) {
        self.children.lock().remove(name);
    }

    /// The absolute path of this dentry in the sandbox.
    pub fn path(self: &Arc<Self>) -> Vec<u8> {
        self.path_from(None).0
    }

    /// The absolute path as seen from `root` (a chroot; None: the
    /// sandbox's root), and whether `root` is above this dentry at all
    /// (if not, the path is the whole one, as Linux's getcwd then gives it
    /// after "(unreachable)").
    pub fn path_from(self: &Arc<Self>, root: Option<&Arc<Dentry>>) -> (Vec<u8>, bool) {
        let mut parts = Vec::new();
        let mut d = self.clone();
        let mut reached = root.is_none();
        while let Some(p) = d.parent.clone() {
            if root.is_some_and(|r| Arc::ptr_eq(r, &d)) {
                reached = true;
                break;
            }
            parts.push(d.name.clone());
            d = p;
        }
        if root.is_some_and(|r| Arc::ptr_eq(r, &d)) {
            reached = true;
        }
        if parts.is_empty() {
            return (b"/".to_vec(), reached);
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        (out, reached)
    }
}
