//! Path walk with Linux semantics: symlinks (at most 40), `..` that never
//! leaves the sandbox root, mounts, trailing slashes, ENAMETOOLONG.

use std::sync::Arc;

use super::Dentry;
use crate::errno::Errno;

/// The most symlinks one walk follows (Linux's MAXSYMLINKS).
pub const MAX_SYMLINKS: u32 = 40;
/// PATH_MAX, including the NUL.
pub const PATH_MAX: usize = 4096;
/// NAME_MAX.
pub const NAME_MAX: usize = 255;

/// Where a walk starts and what it may not climb above.
pub struct Walker<'a> {
    /// The sandbox root (chroot) of the task.
    pub root: &'a Arc<Dentry>,
    /// The directory relative paths start from.
    pub start: &'a Arc<Dentry>,
    /// openat2's restrictions.
    pub rules: Rules,
}

/// Restrictions openat2(2) puts on a walk (RESOLVE_*); none by default.
/// RESOLVE_IN_ROOT is a walk whose root is its start.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    /// RESOLVE_BENEATH: no absolute paths or symlinks, no `..` above the
    /// start (EXDEV).
    pub beneath: bool,
    /// RESOLVE_NO_SYMLINKS: no symlink at all (ELOOP).
    pub no_symlinks: bool,
    /// RESOLVE_NO_XDEV: no crossing of mounts (EXDEV).
    pub no_xdev: bool,
}

fn is_dir(d: &Dentry) -> Result<bool, Errno> {
    Ok(d.inode.stat()?.is_dir())
}

impl Walker<'_> {
    /// Resolves `path` to a dentry; follows a final symlink if `follow`.
    pub fn walk(&self, path: &[u8], follow: bool) -> Result<Arc<Dentry>, Errno> {
        let mut links = 0;
        self.walk_from(self.start, path, follow, &mut links)
    }

    /// Resolves all but the last component of `path`. Returns the parent
    /// directory, the last name ("." for "/" or ""), and whether the path
    /// ended in a slash.
    pub fn walk_parent(&self, path: &[u8]) -> Result<(Arc<Dentry>, Vec<u8>, bool), Errno> {
        check_len(path)?;
        let trailing = path.ends_with(b"/");
        let trimmed = trim_trailing(path);
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        let parent = if dir.is_empty() {
            self.start.clone()
        } else {
            let mut links = 0;
            self.walk_from(self.start, dir, true, &mut links)?
        };
        if !is_dir(&parent)? {
            return Err(Errno::ENOTDIR);
        }
        let name = if name.is_empty() {
            b".".to_vec()
        } else {
            name.to_vec()
        };
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok((parent, name, trailing))
    }

    fn walk_from(
        &self,
        start: &Arc<Dentry>,
        path: &[u8],
        follow: bool,
        links: &mut u32,
    ) -> Result<Arc<Dentry>, Errno> {
        check_len(path)?;
        let mut cur = if path[0] == b'/' {
            if self.rules.beneath {
                return Err(Errno::EXDEV);
            }
            self.root.clone()
        } else {
            start.clone()
        };
        let trailing = path.ends_with(b"/");
        let mut comps = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        while let Some(c) = comps.next() {
            let last = comps.peek().is_none();
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            if !is_dir(&cur)? {
                return Err(Errno::ENOTDIR);
            }
            if c == b"." {
                continue;
            }
            if c == b".." {
                if self.rules.beneath && Arc::ptr_eq(&cur, self.start) {
                    return Err(Errno::EXDEV);
                }
                if !Arc::ptr_eq(&cur, self.root) {
                    if let Some(p) = cur.parent.clone() {
                        let up = p.mount_top();
                        self.check_xdev(&cur, &up)?;
                        cur = up;
                    }
                }
                continue;
            }
            let mut next = cur.child(c)?;
            self.check_xdev(&cur, &next)?;
            if (!last || follow || trailing) && next.inode.stat()?.is_symlink() {
                if self.rules.no_symlinks {
                    return Err(Errno::ELOOP);
                }
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = next.inode.readlink()?;
                next = self.walk_from(&cur, &target, true, links)?;
            }
            cur = next;
        }
        if trailing && !is_dir(&cur)? {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }
}

impl Walker<'_> {
    /// RESOLVE_NO_XDEV: a step from `from` to `to` must stay on one
    /// filesystem.
    fn check_xdev(&self, from: &Dentry, to: &Dentry) -> Result<(), Errno> {
        if self.rules.no_xdev && from.inode.stat()?.dev != to.inode.stat()?.dev {
            return Err(Errno::EXDEV);
        }
        Ok(())
    }
}

fn check_len(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

fn trim_trailing(path: &[u8]) -> &[u8] {
    let mut p = path;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
}
