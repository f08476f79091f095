//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

use super::fs::{resolve_at, Target};
use super::SysResult;
use crate::errno::Errno;
use crate::fs::inotify::{Inotify, InotifyFile, IN_DONT_FOLLOW, IN_ONLYDIR};
use crate::kernel::task::Task;
use crate::vfs::File;

pub fn inotify_init(t: &mut Task, _a: [u64; 6]) -> SysResult {
    new_inotify(t, 0)
}

pub fn inotify_init1(t: &mut Task, a: [u64; 6]) -> SysResult {
    new_inotify(t, a[0] as i32)
}

fn new_inotify(t: &mut Task, flags: i32) -> SysResult {
    if flags & !(libc::IN_NONBLOCK | libc::IN_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = File::new(
        Box::new(InotifyFile(Inotify::new())),
        None,
        libc::O_RDONLY | (flags & libc::O_NONBLOCK),
    );
    t.fds
        .insert(f, flags & libc::IN_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

/// The inotify instance behind `fd` (EINVAL for another kind of file).
fn instance(t: &Task, fd: i32) -> Result<std::sync::Arc<Inotify>, Errno> {
    let f = t.fds.get(fd)?;
    f.ops
        .as_any()
        .downcast_ref::<InotifyFile>()
        .map(|i| i.0.clone())
        .ok_or(Errno::EINVAL)
}

pub fn inotify_add_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ino = instance(t, a[0] as i32)?;
    let mask = a[2] as u32;
    let flags = if mask & IN_DONT_FOLLOW != 0 {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    let st = match resolve_at(t, libc::AT_FDCWD, a[1], flags)? {
        Target::Dentry(d) => d.inode.stat()?,
        Target::File(f) => f.ops.stat()?,
    };
    if mask & IN_ONLYDIR != 0 && !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    ino.add_watch((st.dev, st.ino), mask).map(|wd| wd as u64)
}

pub fn inotify_rm_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    instance(t, a[0] as i32)?.rm_watch(a[1] as i32).map(|_| 0)
}
