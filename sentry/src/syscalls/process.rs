//! Process lifecycle and per-thread settings: exit, execve, arch_prctl,
//! prctl, robust lists, scheduling information.

use crate::errno::{Errno, SysResult};
use crate::kernel::task::{ExitStatus, Task};
use crate::syscalls::fs::path_arg;

pub fn exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited(a[0] as i32 & 0xff));
    Ok(0)
}

pub fn exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    exit(t, a)
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn string_array(t: &Task, mut addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    loop {
        let p: u64 = t.mm.read_obj(addr)?;
        if p == 0 {
            return Ok(out);
        }
        let s = t.mm.read_cstr(p, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 9;
        if total > 2 << 20 || out.len() > 0x7fff_ffff {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        addr += 8;
    }
}

fn do_execve(t: &mut Task, path: Vec<u8>, argv: u64, envp: u64) -> SysResult {
    let argv = string_array(t, argv)?;
    let envp = string_array(t, envp)?;
    t.exec(path, argv, envp)?;
    Ok(0)
}

pub fn execve(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = path_arg(t, a[0])?;
    do_execve(t, path, a[1], a[2])
}

pub fn execveat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, flags) = (a[0] as i32, a[4] as i32);
    if flags & !(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut path = path_arg(t, a[1])?;
    if path.first() != Some(&b'/') && dirfd != libc::AT_FDCWD {
        let f = t.fds.get(dirfd)?;
        let d = f.dentry.clone().ok_or(Errno::ENOENT)?;
        let mut full = d.path();
        if !path.is_empty() {
            full.push(b'/');
            full.extend_from_slice(&path);
        } else if flags & libc::AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        path = full;
    }
    do_execve(t, path, a[2], a[3])
}

pub fn arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    const ARCH_SET_GS: u64 = 0x1001;
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    const ARCH_GET_GS: u64 = 0x1004;
    let canonical = |v: u64| v < 0x7fff_ffff_f000;
    match a[0] {
        ARCH_SET_FS if canonical(a[1]) => t.regs.fs_base = a[1],
        ARCH_SET_GS if canonical(a[1]) => t.regs.gs_base = a[1],
        ARCH_SET_FS | ARCH_SET_GS => return Err(Errno::EPERM),
        ARCH_GET_FS => t.mm.write_obj(a[1], &t.regs.fs_base)?,
        ARCH_GET_GS => t.mm.write_obj(a[1], &t.regs.gs_base)?,
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

pub fn set_tid_address(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.clear_child_tid = a[0];
    Ok(t.tid as u64)
}

pub fn set_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    t.robust_list = (a[0], a[1]);
    Ok(0)
}

pub fn get_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tid {
        return Err(Errno::ESRCH);
    }
    t.mm.write_obj(a[1], &t.robust_list.0)?;
    t.mm.write_obj(a[2], &t.robust_list.1)?;
    Ok(0)
}

pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::PR_SET_NAME => {
            let mut name = vec![0u8; 16];
            let (chunks, _) = t.mm.chunks(a[1], 16, false);
            let mut n = 0;
            for c in chunks {
                name[n..n + c.len].copy_from_slice(c.as_slice());
                n += c.len;
            }
            if n == 0 {
                return Err(Errno::EFAULT);
            }
            name.truncate(15.min(n));
            if let Some(i) = name.iter().position(|&b| b == 0) {
                name.truncate(i);
            }
            t.comm = name;
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let mut name = t.comm.clone();
            name.resize(16, 0);
            t.mm.copy_out(a[1], &name)?;
            Ok(0)
        }
        libc::PR_GET_DUMPABLE => Ok(1),
        libc::PR_SET_DUMPABLE if a[1] <= 1 => Ok(0),
        libc::PR_SET_NO_NEW_PRIVS if a[1] == 1 => Ok(0),
        libc::PR_GET_NO_NEW_PRIVS => Ok(0),
        libc::PR_SET_PDEATHSIG if a[1] <= 64 => Ok(0),
        libc::PR_GET_PDEATHSIG => {
            t.mm.write_obj(a[1], &0i32)?;
            Ok(0)
        }
        libc::PR_CAPBSET_READ if a[1] <= 40 => Ok(1),
        libc::PR_CAPBSET_READ => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_yield(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, len, mask) = (a[0] as i32, a[1] as usize, a[2]);
    if pid != 0 && pid != t.tid {
        return Err(Errno::ESRCH);
    }
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let n = std::thread::available_parallelism().map_or(1, |n| n.get()).min(64);
    let bits: u64 = if n == 64 { u64::MAX } else { (1 << n) - 1 };
    t.mm.write_obj(mask, &bits)?;
    Ok(8)
}

pub fn getcpu(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        t.mm.write_obj(a[0], &0u32)?;
    }
    if a[1] != 0 {
        t.mm.write_obj(a[1], &0u32)?;
    }
    Ok(0)
}
