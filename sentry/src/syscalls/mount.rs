//! mount(2) and umount2(2) inside the sandbox (for root, as CAP_SYS_ADMIN):
//! new tmpfs instances, bind mounts, the sandbox's own proc, sysfs and
//! devpts again, and propagation changes (accepted: the sandbox's mounts
//! propagate nowhere).

use super::fs::{resolve_at, Target};
use super::SysResult;
use crate::errno::Errno;
use crate::kernel::task::Task;

const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;
const MS_MOVE: u64 = 8192;
const MS_PROPAGATION: u64 = (1 << 15) | (1 << 17) | (1 << 18) | (1 << 19); // UNBINDABLE PRIVATE SLAVE SHARED

fn dir_target(t: &Task, addr: u64) -> Result<std::sync::Arc<crate::vfs::Dentry>, Errno> {
    match resolve_at(t, libc::AT_FDCWD, addr, 0)? {
        Target::Dentry(d) => Ok(d),
        Target::File(_) => Err(Errno::ENOTDIR),
    }
}

/// The `mode=` option of a tmpfs mount (octal), if any.
fn mode_option(data: &[u8]) -> Option<u32> {
    data.split(|&b| b == b',')
        .find_map(|o| o.strip_prefix(b"mode="))
        .and_then(|m| u32::from_str_radix(std::str::from_utf8(m).ok()?, 8).ok())
}

pub fn mount(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (source, target, fstype, flags, data) = (a[0], a[1], a[2], a[3], a[4]);
    if t.creds.euid != 0 {
        return Err(Errno::EPERM);
    }
    let dest = dir_target(t, target)?;
    if flags & MS_PROPAGATION != 0 {
        return Ok(0);
    }
    if flags & MS_REMOUNT != 0 {
        return if dest.is_mount_root() || dest.parent.is_none() {
            Ok(0)
        } else {
            Err(Errno::EINVAL)
        };
    }
    if flags & MS_MOVE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MS_BIND != 0 {
        let src = match resolve_at(t, libc::AT_FDCWD, source, 0)? {
            Target::Dentry(d) => d,
            Target::File(_) => return Err(Errno::EINVAL),
        };
        if src.inode.stat()?.is_dir() != dest.inode.stat()?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        dest.mount(src.inode.clone());
        return Ok(0);
    }
    if !dest.inode.stat()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fstype = t.mm.read_cstr(fstype, 64)?;
    let options = if data == 0 {
        Vec::new()
    } else {
        t.mm.read_cstr(data, 4096)?
    };
    let root: std::sync::Arc<dyn crate::vfs::Inode> = match fstype.as_slice() {
        b"tmpfs" => crate::fs::tmpfs::TmpfsInode::new_root(mode_option(&options).unwrap_or(0o1777)),
        // The sandbox's own instances, shown again.
        b"proc" | b"sysfs" | b"devpts" => {
            let path: &[u8] = match fstype.as_slice() {
                b"proc" => b"proc",
                b"sysfs" => b"sys",
                _ => b"dev/pts",
            };
            let mut d = t.kernel.root.clone();
            for part in path.split(|&b| b == b'/') {
                d = d.child(part).map_err(|_| Errno::ENODEV)?;
            }
            d.inode.clone()
        }
        _ => return Err(Errno::ENODEV),
    };
    dest.mount(root);
    Ok(0)
}

pub fn umount2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const KNOWN: u64 = 1 | 2 | 4 | 8; // MNT_FORCE MNT_DETACH MNT_EXPIRE UMOUNT_NOFOLLOW
    if a[1] & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    if t.creds.euid != 0 {
        return Err(Errno::EPERM);
    }
    let d = dir_target(t, a[0])?;
    if d.parent.is_none() {
        return Err(Errno::EBUSY);
    }
    d.unmount().map(|_| 0)
}
