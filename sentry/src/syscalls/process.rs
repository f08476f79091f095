//! Process lifecycle and per-thread settings: exit, execve, arch_prctl,
//! prctl, robust lists, scheduling information.

use crate::errno::{Errno, SysResult};
use crate::kernel::task::{ExitStatus, NewProcess, Task};
use crate::syscalls::fs::path_arg;

/// Ends the calling thread; the process ends with its last thread.
pub fn exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited(a[0] as i32 & 0xff));
    Ok(0)
}

/// Ends every thread of the process.
pub fn exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    let status = ExitStatus::Exited(a[0] as i32 & 0xff);
    t.group().exit_all(status);
    t.exit = Some(status);
    Ok(0)
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
    // AT_SYMLINK_NOFOLLOW: a symlink as the program is ELOOP.
    if flags & libc::AT_SYMLINK_NOFOLLOW != 0 && !path.is_empty() {
        let d = t.walker().walk(&path, false)?;
        if d.inode.stat()?.is_symlink() {
            return Err(Errno::ELOOP);
        }
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
    use std::sync::atomic::Ordering::Relaxed;
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
            t.publish_info();
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let mut name = t.comm.clone();
            name.resize(16, 0);
            t.mm.copy_out(a[1], &name)?;
            Ok(0)
        }
        libc::PR_GET_DUMPABLE => Ok(t.group().dumpable.load(Relaxed) as u64),
        libc::PR_SET_DUMPABLE if a[1] <= 1 => {
            t.group().dumpable.store(a[1] as i32, Relaxed);
            Ok(0)
        }
        libc::PR_SET_NO_NEW_PRIVS if a[1] == 1 && a[2] == 0 && a[3] == 0 && a[4] == 0 => {
            t.group().no_new_privs.store(true, Relaxed);
            Ok(0)
        }
        libc::PR_GET_NO_NEW_PRIVS => Ok(t.group().no_new_privs.load(Relaxed) as u64),
        libc::PR_SET_PDEATHSIG if a[1] <= 64 => {
            t.group().pdeath_signal.store(a[1] as i32, Relaxed);
            Ok(0)
        }
        libc::PR_GET_PDEATHSIG => {
            t.mm.write_obj(a[1], &t.group().pdeath_signal.load(Relaxed))?;
            Ok(0)
        }
        libc::PR_SET_CHILD_SUBREAPER => {
            t.kernel.procs.set_subreaper(t.pid, a[1] != 0);
            Ok(0)
        }
        libc::PR_GET_CHILD_SUBREAPER => {
            t.mm.write_obj(a[1], &(t.kernel.procs.subreaper(t.pid) as i32))?;
            Ok(0)
        }
        libc::PR_GET_KEEPCAPS => Ok(0),
        libc::PR_SET_KEEPCAPS if a[1] <= 1 => Ok(0),
        libc::PR_GET_SECCOMP => Ok(t.seccomp.number()),
        libc::PR_SET_SECCOMP => match a[1] {
            1 => set_strict(t),
            2 => set_filter(t, 0, a[2]),
            _ => Err(Errno::EINVAL),
        },
        libc::PR_GET_TIMERSLACK => Ok(50_000),
        libc::PR_SET_TIMERSLACK => Ok(0),
        libc::PR_CAP_AMBIENT => match a[1] as i32 {
            libc::PR_CAP_AMBIENT_IS_SET if a[2] <= 40 => Ok(0),
            libc::PR_CAP_AMBIENT_CLEAR_ALL => Ok(0),
            libc::PR_CAP_AMBIENT_RAISE | libc::PR_CAP_AMBIENT_LOWER if a[2] <= 40 => {
                Err(Errno::EPERM)
            }
            _ => Err(Errno::EINVAL),
        },
        libc::PR_CAPBSET_READ if a[1] <= 40 => Ok(1),
        libc::PR_CAPBSET_READ => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_yield(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

/// The task a sched_* call names (0: the caller).
fn sched_target(
    t: &Task,
    pid: i32,
) -> Result<std::sync::Arc<crate::kernel::thread_group::TaskHandle>, Errno> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 || pid == t.tid {
        return Ok(t.handle.clone());
    }
    t.kernel.tasks.lock().get(&pid).cloned().ok_or(Errno::ESRCH)
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, len, mask) = (a[0] as i32, a[1] as usize, a[2]);
    let target = sched_target(t, pid)?;
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let bits = target.affinity.load(std::sync::atomic::Ordering::Relaxed);
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

const CLONE_VM: u64 = libc::CLONE_VM as u64;
const CLONE_FS: u64 = libc::CLONE_FS as u64;
const CLONE_FILES: u64 = libc::CLONE_FILES as u64;
const CLONE_SIGHAND: u64 = libc::CLONE_SIGHAND as u64;
const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;
const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;
const CLONE_PARENT_SETTID: u64 = libc::CLONE_PARENT_SETTID as u64;
const CLONE_CHILD_SETTID: u64 = libc::CLONE_CHILD_SETTID as u64;
const CLONE_CHILD_CLEARTID: u64 = libc::CLONE_CHILD_CLEARTID as u64;
/// A pidfd of the child goes to the caller.
const CLONE_PIDFD: u64 = libc::CLONE_PIDFD as u64;
/// clone3 only: the child starts with default signal handlers.
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// fork, vfork and clone: a thread (CLONE_THREAD), a process sharing the
/// address space (CLONE_VM: vfork, posix_spawn), or a copy-on-write copy.
/// What a clone makes, as its arguments say. `pidfd` is where a pidfd of
/// the child goes with CLONE_PIDFD.
struct CloneArgs {
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
    pidfd: u64,
}

impl CloneArgs {
    /// fork and vfork: flags only.
    fn plain(flags: u64) -> CloneArgs {
        CloneArgs {
            flags,
            stack: 0,
            ptid: 0,
            ctid: 0,
            tls: 0,
            pidfd: 0,
        }
    }
}

fn do_clone(t: &mut Task, args: CloneArgs) -> SysResult {
    let CloneArgs {
        flags,
        stack,
        ptid,
        ctid,
        tls,
        pidfd,
    } = args;
    if flags & CLONE_PIDFD != 0 && flags & CLONE_THREAD != 0 {
        return Err(Errno::EINVAL);
    }
    let clear_handlers = flags & CLONE_CLEAR_SIGHAND != 0;
    if clear_handlers && flags & CLONE_SIGHAND != 0 {
        return Err(Errno::EINVAL);
    }
    // The combinations Linux refuses.
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0
        || flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0
    {
        return Err(Errno::EINVAL);
    }
    let ns = (libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWUSER
        | libc::CLONE_NEWCGROUP) as u64;
    if flags & ns != 0 {
        return Err(Errno::EPERM);
    }
    let mut regs = t.regs;
    regs.rax = 0;
    if stack != 0 {
        regs.rsp = stack;
    }
    if flags & CLONE_SETTLS != 0 {
        regs.fs_base = tls;
    }
    let clear = if flags & CLONE_CHILD_CLEARTID != 0 {
        ctid
    } else {
        0
    };
    let set = if flags & CLONE_CHILD_SETTID != 0 {
        ctid
    } else {
        0
    };
    let parent_tid = if flags & CLONE_PARENT_SETTID != 0 {
        ptid
    } else {
        0
    };
    let share = (flags & CLONE_FILES != 0, flags & CLONE_FS != 0);
    let how = NewProcess {
        vfork: flags & CLONE_VFORK != 0,
        clear_handlers,
        exit_signal: (flags & 0xff) as i32,
    };
    let pid = if flags & CLONE_THREAD != 0 {
        t.spawn_thread(regs, share, (clear, set, parent_tid), None)?
    } else if flags & CLONE_VM != 0 {
        t.spawn_thread(regs, share, (clear, set, parent_tid), Some(how))?
    } else {
        let pid = t.fork(regs, clear, set, how)?;
        if parent_tid != 0 {
            t.mm.write_obj(parent_tid, &pid)?;
        }
        pid
    };
    if flags & CLONE_PIDFD != 0 {
        let fd = super::signal::open_pidfd(t, pid, false)?;
        t.mm.write_obj(pidfd, &fd)?;
    }
    Ok(pid as u64)
}

pub fn clone(t: &mut Task, a: [u64; 6]) -> SysResult {
    // amd64 order: flags, stack, parent_tid, child_tid, tls. The flags are
    // an int to the legacy call: clone3-only bits are never set by it. A
    // pidfd goes where the parent's tid would.
    let flags = a[0] & 0xffff_ffff;
    if flags & CLONE_PIDFD != 0 && flags & CLONE_PARENT_SETTID != 0 {
        return Err(Errno::EINVAL);
    }
    do_clone(
        t,
        CloneArgs {
            flags,
            stack: a[1],
            ptid: a[2],
            ctid: a[3],
            tls: a[4],
            pidfd: a[2],
        },
    )
}

/// `clone3(args, size)`: `struct clone_args` is eleven 64-bit fields.
pub fn clone3(t: &mut Task, a: [u64; 6]) -> SysResult {
    const KNOWN: usize = 11 * 8;
    const VER0: usize = 8 * 8;
    let (addr, size) = (a[0], a[1] as usize);
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mut buf = vec![0u8; size.max(KNOWN)];
    t.mm.copy_in(addr, &mut buf[..size])?;
    // A newer caller's extra fields must be zero: we know none of them.
    if buf[KNOWN..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let f = |i: usize| u64::from_ne_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap());
    let (flags, pidfd, child_tid, parent_tid, exit_signal) = (f(0), f(1), f(2), f(3), f(4));
    let (stack, stack_size, tls, set_tid, set_tid_size) = (f(5), f(6), f(7), f(8), f(9));
    const CSIGNAL: u64 = 0xff;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let high = CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP;
    if flags & CSIGNAL != 0 || exit_signal > 64 || flags >> 32 & !(high >> 32) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && exit_signal != 0 {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if (set_tid == 0) != (set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    if set_tid != 0 {
        // Choosing pids is not supported.
        return Err(Errno::EPERM);
    }
    // cgroup is read only with its flag.
    if flags & CLONE_INTO_CGROUP != 0 {
        return Err(Errno::EINVAL);
    }
    let top = stack.checked_add(stack_size).ok_or(Errno::EINVAL)?;
    do_clone(
        t,
        CloneArgs {
            flags: flags | exit_signal,
            stack: top,
            ptid: parent_tid,
            ctid: child_tid,
            tls,
            pidfd,
        },
    )
}

pub fn fork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    do_clone(t, CloneArgs::plain(libc::SIGCHLD as u64))
}

pub fn vfork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    do_clone(
        t,
        CloneArgs::plain(CLONE_VM | CLONE_VFORK | libc::SIGCHLD as u64),
    )
}

/// Which children a wait with `options` considers (see
/// `WaitOptions::clones`).
fn clone_children(options: i32) -> Option<bool> {
    if options & libc::__WALL != 0 {
        None
    } else {
        Some(options & libc::__WCLONE != 0)
    }
}

pub fn wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::kernel::proctable::{ChildEvent, WaitFor, WaitOptions};
    let (pid, wstatus, options, rusage) = (a[0] as i32, a[1], a[2] as i32, a[3]);
    let known = libc::WNOHANG
        | libc::WUNTRACED
        | libc::WCONTINUED
        | libc::__WALL
        | libc::__WCLONE
        | libc::__WNOTHREAD;
    if options & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match pid {
        p if p > 0 => WaitFor::Pid(p),
        0 => WaitFor::Pgid(t.group().pgid.load(std::sync::atomic::Ordering::Relaxed)),
        -1 => WaitFor::Any,
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => WaitFor::Pgid(-p),
    };
    let opts = WaitOptions {
        exited: true,
        stopped: options & libc::WUNTRACED != 0,
        continued: options & libc::WCONTINUED != 0,
        nohang: options & libc::WNOHANG != 0,
        consume: true,
        clones: clone_children(options),
    };
    let kernel = t.kernel.clone();
    let Some((child, ev)) = kernel.procs.wait(t.pid, which, opts)? else {
        return Ok(0);
    };
    if let ChildEvent::Exited(..) = ev {
        kernel.groups.lock().remove(&child);
    }
    let (status, times) = match ev {
        ChildEvent::Exited(st, times) => (st.wait_status(), times),
        ChildEvent::Stopped(sig) => (0x7f | (sig << 8), Default::default()),
        ChildEvent::Continued => (0xffff, Default::default()),
    };
    if wstatus != 0 {
        t.mm.write_obj(wstatus, &status)?;
    }
    if rusage != 0 {
        t.mm.write_obj(rusage, &super::time::rusage(times))?;
    }
    Ok(child as u64)
}

pub fn waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::kernel::proctable::{ChildEvent, WaitFor, WaitOptions};
    let (idtype, id, infop, options) = (a[0] as u32, a[1] as i32, a[2], a[3] as i32);
    let known = libc::WNOHANG
        | libc::WEXITED
        | libc::WSTOPPED
        | libc::WCONTINUED
        | libc::WNOWAIT
        | libc::__WALL
        | libc::__WCLONE
        | libc::__WNOTHREAD;
    if options & !known != 0 || options & (libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    const P_PIDFD: u32 = 3;
    let which = match idtype {
        libc::P_ALL => WaitFor::Any,
        P_PIDFD => WaitFor::Pid(super::signal::pidfd_pid(t, id)?),
        libc::P_PID if id > 0 => WaitFor::Pid(id),
        libc::P_PGID if id > 0 => WaitFor::Pgid(id),
        libc::P_PGID if id == 0 => {
            WaitFor::Pgid(t.group().pgid.load(std::sync::atomic::Ordering::Relaxed))
        }
        _ => return Err(Errno::EINVAL),
    };
    let opts = WaitOptions {
        exited: options & libc::WEXITED != 0,
        stopped: options & libc::WSTOPPED != 0,
        continued: options & libc::WCONTINUED != 0,
        nohang: options & libc::WNOHANG != 0,
        consume: options & libc::WNOWAIT == 0,
        clones: clone_children(options),
    };
    let kernel = t.kernel.clone();
    let found = kernel.procs.wait(t.pid, which, opts)?;
    if let Some((child, ChildEvent::Exited(..))) = found {
        if opts.consume {
            kernel.groups.lock().remove(&child);
        }
    }
    if infop != 0 {
        // siginfo_t for SIGCHLD: signo, errno, code, then pid, uid, status.
        let mut info = [0u8; 128];
        if let Some((pid, ev)) = found {
            let (code, status) = match ev {
                ChildEvent::Exited(ExitStatus::Exited(c), _) => (libc::CLD_EXITED, c),
                // No core files are written: never CLD_DUMPED.
                ChildEvent::Exited(ExitStatus::Signaled(s), _) => (libc::CLD_KILLED, s),
                ChildEvent::Stopped(s) => (libc::CLD_STOPPED, s),
                ChildEvent::Continued => (libc::CLD_CONTINUED, libc::SIGCONT),
            };
            info[0..4].copy_from_slice(&libc::SIGCHLD.to_le_bytes());
            info[8..12].copy_from_slice(&code.to_le_bytes());
            info[16..20].copy_from_slice(&pid.to_le_bytes());
            info[20..24].copy_from_slice(&t.creds.uid.to_le_bytes());
            info[24..28].copy_from_slice(&status.to_le_bytes());
        }
        t.mm.copy_out(infop, &info)?;
    }
    Ok(0)
}

pub fn setpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    use std::sync::atomic::Ordering;
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let pid = if pid == 0 { t.pid } else { pid };
    let target = t
        .kernel
        .groups
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if pid != t.pid && t.kernel.procs.parent(pid) != t.pid {
        return Err(Errno::ESRCH);
    }
    if target.sid.load(Ordering::Relaxed) == pid {
        return Err(Errno::EPERM);
    }
    if pid != t.pid && target.execed.load(Ordering::Relaxed) {
        return Err(Errno::EACCES);
    }
    let pgid = if pgid == 0 { pid } else { pgid };
    // Joining another group: it must exist in the same session.
    if pgid != pid {
        let sid = target.sid.load(Ordering::Relaxed);
        let exists = t.kernel.groups.lock().values().any(|g| {
            g.pgid.load(Ordering::Relaxed) == pgid && g.sid.load(Ordering::Relaxed) == sid
        });
        if !exists {
            return Err(Errno::EPERM);
        }
    }
    target.pgid.store(pgid, Ordering::Relaxed);
    t.kernel.procs.set_pgid(pid, pgid);
    Ok(0)
}

fn group_of(
    t: &Task,
    pid: i32,
) -> Result<std::sync::Arc<crate::kernel::thread_group::ThreadGroup>, Errno> {
    if pid == 0 || pid == t.pid {
        return Ok(t.group().clone());
    }
    t.kernel
        .groups
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::ESRCH)
}

pub fn getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(group_of(t, a[0] as i32)?
        .pgid
        .load(std::sync::atomic::Ordering::Relaxed) as u64)
}

pub fn getpgrp(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.group().pgid.load(std::sync::atomic::Ordering::Relaxed) as u64)
}

pub fn getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(group_of(t, a[0] as i32)?
        .sid
        .load(std::sync::atomic::Ordering::Relaxed) as u64)
}

pub fn setsid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    use std::sync::atomic::Ordering;
    let g = t.group().clone();
    let leader = t
        .kernel
        .groups
        .lock()
        .values()
        .any(|o| o.pgid.load(Ordering::Relaxed) == t.pid);
    if g.pgid.load(Ordering::Relaxed) == t.pid || leader && g.pid != t.pid {
        return Err(Errno::EPERM);
    }
    g.pgid.store(t.pid, Ordering::Relaxed);
    g.sid.store(t.pid, Ordering::Relaxed);
    t.kernel.procs.set_pgid(t.pid, t.pid);
    Ok(t.pid as u64)
}

fn check_sched_pid(t: &Task, pid: i32) -> Result<(), Errno> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != t.tid && !t.kernel.tasks.lock().contains_key(&pid) {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

pub fn sched_setaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = sched_target(t, a[0] as i32)?;
    let len = (a[1] as usize).min(8);
    let mut raw = [0u8; 8];
    t.mm.copy_in(a[2], &mut raw[..len])?;
    let mask = u64::from_le_bytes(raw) & crate::kernel::thread_group::online_cpus();
    if mask == 0 {
        return Err(Errno::EINVAL);
    }
    target
        .affinity
        .store(mask, std::sync::atomic::Ordering::Relaxed);
    Ok(0)
}

pub fn sched_getparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = sched_target(t, a[0] as i32)?;
    if a[1] == 0 {
        return Err(Errno::EINVAL);
    }
    let prio = target.sched.lock().1;
    t.mm.write_obj(a[1], &prio)?;
    Ok(0)
}

/// Sets `policy` (with SCHED_RESET_ON_FORK) and `prio` for `target`, as
/// sched_setscheduler checks them: real-time policies need priority 1..99
/// and CAP_SYS_NICE, the others priority 0.
fn set_sched(
    t: &Task,
    target: &crate::kernel::thread_group::TaskHandle,
    policy: i32,
    prio: i32,
) -> SysResult {
    const CAP_SYS_NICE: u32 = 23;
    match policy & !libc::SCHED_RESET_ON_FORK {
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE if prio == 0 => {}
        libc::SCHED_FIFO | libc::SCHED_RR if (1..=99).contains(&prio) => {
            if t.creds.caps_effective & (1 << CAP_SYS_NICE) == 0 {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    *target.sched.lock() = (policy, prio);
    Ok(0)
}

pub fn sched_setparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = sched_target(t, a[0] as i32)?;
    if a[1] == 0 {
        return Err(Errno::EINVAL);
    }
    let prio: i32 = t.mm.read_obj(a[1])?;
    let policy = target.sched.lock().0;
    set_sched(t, &target, policy, prio)
}

pub fn sched_getscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = sched_target(t, a[0] as i32)?;
    let policy = target.sched.lock().0;
    Ok(policy as u64)
}

pub fn sched_setscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let target = sched_target(t, a[0] as i32)?;
    if a[2] == 0 || (a[1] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let prio: i32 = t.mm.read_obj(a[2])?;
    set_sched(t, &target, a[1] as i32, prio)
}

pub fn sched_get_priority_max(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(99),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_get_priority_min(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(1),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_rr_get_interval(t: &mut Task, a: [u64; 6]) -> SysResult {
    check_sched_pid(t, a[0] as i32)?;
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    t.mm.write_obj(a[1], &ts)?;
    Ok(0)
}

/// The processes a getpriority/setpriority `(which, who)` names.
fn priority_targets(
    t: &Task,
    which: i32,
    who: i32,
) -> Result<Vec<std::sync::Arc<crate::kernel::thread_group::ThreadGroup>>, Errno> {
    use std::sync::atomic::Ordering::Relaxed;
    let groups: Vec<_> = t.kernel.groups.lock().values().cloned().collect();
    let out: Vec<_> = match which as u32 {
        libc::PRIO_PROCESS => {
            let pid = if who == 0 { t.pid } else { who };
            groups.into_iter().filter(|g| g.pid == pid).collect()
        }
        libc::PRIO_PGRP => {
            let pg = if who == 0 {
                t.group().pgid.load(Relaxed)
            } else {
                who
            };
            groups
                .into_iter()
                .filter(|g| g.pgid.load(Relaxed) == pg)
                .collect()
        }
        // Every process here runs as the sandbox's users; match all for "who".
        libc::PRIO_USER => groups,
        _ => return Err(Errno::EINVAL),
    };
    if out.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(out)
}

pub fn getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    use std::sync::atomic::Ordering::Relaxed;
    let targets = priority_targets(t, a[0] as i32, a[1] as i32)?;
    let best = targets
        .iter()
        .map(|g| g.nice.load(Relaxed))
        .min()
        .unwrap_or(0);
    Ok((20 - best) as u64)
}

pub fn setpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    use std::sync::atomic::Ordering::Relaxed;
    let nice = (a[2] as i32).clamp(-20, 19);
    for g in priority_targets(t, a[0] as i32, a[1] as i32)? {
        if nice < g.nice.load(Relaxed) && t.creds.euid != 0 {
            return Err(Errno::EACCES);
        }
        g.nice.store(nice, Relaxed);
    }
    Ok(0)
}

/// `personality(2)`: 0xffffffff queries; anything else is recorded (the
/// sandbox runs every process as PER_LINUX on x86-64).
pub fn personality(t: &mut Task, a: [u64; 6]) -> SysResult {
    let persona = a[0] as u32;
    let g = t.group();
    let old = g.persona.load(std::sync::atomic::Ordering::Relaxed);
    if persona != u32::MAX {
        g.persona
            .store(persona, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(old as u64)
}

use crate::kernel::seccomp::{self as sc, Mode};

/// Runs the thread's seccomp filters on system call `nr`; returns the
/// value rax gets when the call must not run.
pub fn seccomp_verdict(t: &mut Task, nr: u64, args: &[u64; 6]) -> Option<u64> {
    let gen = t
        .group()
        .seccomp_gen
        .load(std::sync::atomic::Ordering::Acquire);
    if gen != t.seccomp_seen {
        t.seccomp_seen = gen;
        let synced = t.group().seccomp_sync.lock().clone();
        if let Some(c) = synced {
            t.seccomp = Mode::Filter(c);
        }
    }
    let enosys = (-(libc::ENOSYS as i64)) as u64;
    let verdict = match &t.seccomp {
        Mode::Off => return None,
        Mode::Strict => {
            let ok = [
                libc::SYS_read,
                libc::SYS_write,
                libc::SYS_exit,
                libc::SYS_rt_sigreturn,
            ];
            if ok.contains(&(nr as i64)) {
                return None;
            }
            t.group()
                .exit_all(crate::kernel::task::ExitStatus::Signaled(libc::SIGKILL));
            return Some(enosys);
        }
        Mode::Filter(c) => c.evaluate(&sc::Data {
            nr: nr as i32,
            ip: t.regs.rip,
            args: *args,
        }),
    };
    let data = verdict & sc::ret::DATA;
    match verdict & sc::ret::ACTION_FULL {
        sc::ret::ALLOW | sc::ret::LOG => None,
        sc::ret::ERRNO => Some((-(data.min(4095) as i64)) as u64),
        sc::ret::TRAP => {
            // The handler sees the registers as they were: rax holds the
            // system call number again, as on Linux.
            t.force_signal(sigsys(t, nr, data));
            Some(nr)
        }
        sc::ret::KILL_THREAD if t.group().threads.lock().len() > 1 => {
            t.exit = Some(crate::kernel::task::ExitStatus::Signaled(libc::SIGSYS));
            Some(enosys)
        }
        // TRACE and USER_NOTIF without a tracer or listener fail.
        sc::ret::TRACE | sc::ret::USER_NOTIF => Some(enosys),
        _ => {
            // KILL_PROCESS (or the last thread's KILL_THREAD): SIGSYS with
            // its default action, whatever the process set.
            t.group().actions.lock()[libc::SIGSYS as usize - 1] = Default::default();
            t.force_signal(sigsys(t, nr, data));
            Some(enosys)
        }
    }
}

/// The SIGSYS a seccomp filter sends (si_code SYS_SECCOMP).
fn sigsys(t: &Task, nr: u64, data: u32) -> crate::kernel::signal::SigInfo {
    const SYS_SECCOMP: i32 = 1;
    let mut info = crate::kernel::signal::SigInfo::new(libc::SIGSYS, SYS_SECCOMP);
    info.0[4..8].copy_from_slice(&(data as i32).to_le_bytes());
    info.0[16..24].copy_from_slice(&t.regs.rip.to_le_bytes());
    info.0[24..28].copy_from_slice(&(nr as i32).to_le_bytes());
    info.0[28..32].copy_from_slice(&sc::ARCH_X86_64.to_le_bytes());
    info
}

fn set_strict(t: &mut Task) -> SysResult {
    if !matches!(t.seccomp, Mode::Off) {
        return Err(Errno::EINVAL);
    }
    t.seccomp = Mode::Strict;
    Ok(0)
}

/// Installs the filter whose `struct sock_fprog` is at `addr`.
fn set_filter(t: &mut Task, flags: u64, addr: u64) -> SysResult {
    const TSYNC: u64 = 1;
    const LOG: u64 = 2;
    const SPEC_ALLOW: u64 = 4;
    const NEW_LISTENER: u64 = 8;
    const TSYNC_ESRCH: u64 = 16;
    if flags & !(TSYNC | LOG | SPEC_ALLOW | NEW_LISTENER | TSYNC_ESRCH) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & NEW_LISTENER != 0 {
        // No user-space notification listeners yet.
        return Err(Errno::EINVAL);
    }
    if matches!(t.seccomp, Mode::Strict) {
        return Err(Errno::EINVAL);
    }
    // Without no_new_privs, only CAP_SYS_ADMIN may filter (a filter could
    // otherwise fool a setuid program).
    let nnp = t
        .group()
        .no_new_privs
        .load(std::sync::atomic::Ordering::Relaxed);
    const CAP_SYS_ADMIN: u32 = 21;
    if !nnp && t.creds.caps_effective & (1 << CAP_SYS_ADMIN) == 0 {
        return Err(Errno::EACCES);
    }
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    let len: u16 = t.mm.read_obj(addr)?;
    let ptr: u64 = t.mm.read_obj(addr + 8)?;
    let mut raw = vec![0u8; len as usize * 8];
    t.mm.copy_in(ptr, &mut raw)?;
    let prog: Vec<sc::Insn> = raw
        .chunks_exact(8)
        .map(|c| sc::Insn {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    sc::check(&prog)?;
    let prev = match &t.seccomp {
        Mode::Filter(c) => Some(c.clone()),
        _ => None,
    };
    let chain = sc::Chain::push(prev, prog);
    t.seccomp = Mode::Filter(chain.clone());
    if flags & TSYNC != 0 {
        let g = t.group().clone();
        *g.seccomp_sync.lock() = Some(chain);
        let gen = g
            .seccomp_gen
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        t.seccomp_seen = gen;
    }
    Ok(0)
}

/// `seccomp(operation, flags, args)`.
pub fn seccomp(t: &mut Task, a: [u64; 6]) -> SysResult {
    const SET_MODE_STRICT: u64 = 0;
    const SET_MODE_FILTER: u64 = 1;
    const GET_ACTION_AVAIL: u64 = 2;
    match a[0] {
        SET_MODE_STRICT if a[1] == 0 && a[2] == 0 => set_strict(t),
        SET_MODE_FILTER => set_filter(t, a[1], a[2]),
        GET_ACTION_AVAIL if a[1] == 0 => {
            let action: u32 = t.mm.read_obj(a[2])?;
            match action {
                sc::ret::KILL_PROCESS
                | sc::ret::KILL_THREAD
                | sc::ret::TRAP
                | sc::ret::ERRNO
                | sc::ret::TRACE
                | sc::ret::LOG
                | sc::ret::ALLOW => Ok(0),
                _ => Err(Errno::EOPNOTSUPP),
            }
        }
        _ => Err(Errno::EINVAL),
    }
}
