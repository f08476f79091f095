//! Extended attributes: the get/set/list/remove families (path, lpath, fd).
//!
//! The namespace rules are Linux's: `user.` attributes only on regular
//! files and directories, with the file's read or write permission;
//! `trusted.` only for root (and invisible to others); `security.` open;
//! anything else EOPNOTSUPP. Filesystems store the attributes (tmpfs and
//! the overlay's upper layer do).

use std::sync::Arc;

use super::fs::{may_access, resolve_at, Target};
use super::SysResult;
use crate::errno::Errno;
use crate::kernel::task::Task;
use crate::vfs::{Dentry, Stat};

/// Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX.
const NAME_MAX: usize = 255;
const SIZE_MAX: usize = 65536;

/// The inode an xattr call names: by path (following the last symlink or
/// not) or by fd. Files without a name (pipes, sockets) have no inode to
/// hold attributes: None.
fn target(t: &Task, arg: u64, by_fd: bool, follow: bool) -> Result<Option<Arc<Dentry>>, Errno> {
    let target = if by_fd {
        let f = t.fds.get(arg as i32)?;
        match &f.dentry {
            Some(d) => Target::Dentry(d.clone()),
            None => Target::File(f),
        }
    } else {
        let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
        resolve_at(t, libc::AT_FDCWD, arg, flags)?
    };
    Ok(match target {
        Target::Dentry(d) => Some(d),
        Target::File(_) => None,
    })
}

fn read_name(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    let name = t.mm.read_cstr(addr, NAME_MAX + 1).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::ERANGE
        } else {
            e
        }
    })?;
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

/// Namespaces of attribute names.
#[derive(PartialEq, Eq)]
enum Space {
    User,
    Trusted,
    Security,
}

fn space(name: &[u8]) -> Result<Space, Errno> {
    if name.starts_with(b"user.") {
        Ok(Space::User)
    } else if name.starts_with(b"trusted.") {
        Ok(Space::Trusted)
    } else if name.starts_with(b"security.") {
        Ok(Space::Security)
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

/// Whether the caller may read (`write` false) or change attribute `name`
/// of a file with attributes `st`; Err says how it may not.
fn check(t: &Task, name: &[u8], st: &Stat, write: bool) -> Result<(), Errno> {
    let root = t.creds.euid == 0;
    match space(name)? {
        Space::Trusted if !root => Err(if write { Errno::EPERM } else { Errno::ENODATA }),
        Space::User => {
            if !st.is_reg() && !st.is_dir() {
                return Err(if write { Errno::EPERM } else { Errno::ENODATA });
            }
            if !may_access(t, st, if write { 2 } else { 4 }, false) {
                return Err(Errno::EACCES);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn do_get(t: &mut Task, a: [u64; 6], by_fd: bool, follow: bool) -> SysResult {
    let inode = target(t, a[0], by_fd, follow)?.map(|d| d.inode.clone());
    let name = read_name(t, a[1])?;
    let Some(inode) = inode else {
        space(&name)?;
        return Err(Errno::ENODATA);
    };
    check(t, &name, &inode.stat()?, false)?;
    let value = inode.get_xattr(&name)?;
    let size = a[3] as usize;
    if size == 0 {
        return Ok(value.len() as u64);
    }
    if size < value.len() {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out(a[2], &value)?;
    Ok(value.len() as u64)
}

fn do_set(t: &mut Task, a: [u64; 6], by_fd: bool, follow: bool) -> SysResult {
    let dentry = target(t, a[0], by_fd, follow)?;
    let flags = a[4] as i32;
    if flags & !(libc::XATTR_CREATE | libc::XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = read_name(t, a[1])?;
    let size = a[3] as usize;
    if size > SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut value = vec![0u8; size];
    t.mm.copy_in(a[2], &mut value)?;
    let Some(d) = dentry else {
        space(&name)?;
        return Err(Errno::EOPNOTSUPP);
    };
    check(t, &name, &d.inode.stat()?, true)?;
    d.inode.set_xattr(&name, &value, flags)?;
    crate::fs::inotify::dentry_event(&d, libc::IN_ATTRIB);
    Ok(0)
}

fn do_remove(t: &mut Task, a: [u64; 6], by_fd: bool, follow: bool) -> SysResult {
    let dentry = target(t, a[0], by_fd, follow)?;
    let name = read_name(t, a[1])?;
    let Some(d) = dentry else {
        space(&name)?;
        return Err(Errno::ENODATA);
    };
    check(t, &name, &d.inode.stat()?, true)?;
    d.inode.remove_xattr(&name)?;
    crate::fs::inotify::dentry_event(&d, libc::IN_ATTRIB);
    Ok(0)
}

fn do_list(t: &mut Task, a: [u64; 6], by_fd: bool, follow: bool) -> SysResult {
    let Some(inode) = target(t, a[0], by_fd, follow)?.map(|d| d.inode.clone()) else {
        return Ok(0);
    };
    let st = inode.stat()?;
    let mut out = Vec::new();
    for name in inode.list_xattr()? {
        if check(t, &name, &st, false) == Err(Errno::ENODATA) {
            continue;
        }
        out.extend_from_slice(&name);
        out.push(0);
    }
    let size = a[2] as usize;
    if size == 0 {
        return Ok(out.len() as u64);
    }
    if size < out.len() {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out(a[1], &out)?;
    Ok(out.len() as u64)
}

/// Defines the path, lpath and fd variants of one call.
macro_rules! variants {
    ($do:ident: $path:ident, $lpath:ident, $fd:ident) => {
        pub fn $path(t: &mut Task, a: [u64; 6]) -> SysResult {
            $do(t, a, false, true)
        }
        pub fn $lpath(t: &mut Task, a: [u64; 6]) -> SysResult {
            $do(t, a, false, false)
        }
        pub fn $fd(t: &mut Task, a: [u64; 6]) -> SysResult {
            $do(t, a, true, true)
        }
    };
}

variants!(do_get: getxattr, lgetxattr, fgetxattr);
variants!(do_set: setxattr, lsetxattr, fsetxattr);
variants!(do_remove: removexattr, lremovexattr, fremovexattr);
variants!(do_list: listxattr, llistxattr, flistxattr);
