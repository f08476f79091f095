//! Signal syscalls: dispositions, masks, sending, waiting, sigreturn.

use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::signal::{self, restore_frame, AltStack, SigAction, SigInfo, UNBLOCKABLE};
use crate::kernel::task::Task;

/// sigaltstack's SS_AUTODISARM (not in the libc crate).
const SS_AUTODISARM: i32 = 1 << 31;

fn check_sig(sig: i32) -> Result<(), Errno> {
    if !(1..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (sig, act, oact, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    check_sig(sig)?;
    if act != 0 && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        let mut n: SigAction = t.mm.read_obj(act)?;
        n.mask &= !UNBLOCKABLE;
        Some(n)
    } else {
        None
    };
    let idx = sig as usize - 1;
    let old = t.group().actions.lock()[idx];
    if oact != 0 {
        t.mm.write_obj(oact, &old)?;
    }
    if let Some(n) = new {
        t.group().actions.lock()[idx] = n;
        // Setting SIG_IGN (or SIG_DFL of an ignored-by-default signal)
        // discards what is pending.
        let ignored = n.handler == libc::SIG_IGN as u64
            || (n.handler == libc::SIG_DFL as u64
                && signal::default_action(sig) == signal::DefaultAction::Ignore);
        if ignored {
            t.group().pending.lock().discard(sig);
            for th in t.group().threads.lock().iter() {
                th.sig.lock().pending.discard(sig);
            }
        }
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (how, set, oset, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let cur = t.sigmask();
    let new = if set != 0 {
        let s: u64 = t.mm.read_obj(set)?;
        Some(match how {
            libc::SIG_BLOCK => cur | s,
            libc::SIG_UNBLOCK => cur & !s,
            libc::SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        })
    } else {
        None
    };
    if oset != 0 {
        t.mm.write_obj(oset, &cur)?;
    }
    if let Some(n) = new {
        t.set_sigmask(n);
    }
    Ok(0)
}

pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ss, old) = (a[0], a[1]);
    let on_stack = t.altstack.contains(t.regs.rsp);
    let new = if ss != 0 {
        let raw: [u64; 3] = [
            t.mm.read_obj(ss)?,
            t.mm.read_obj::<u64>(ss + 8)?,
            t.mm.read_obj(ss + 16)?,
        ];
        let flags = raw[1] as i32;
        if flags & !(libc::SS_DISABLE | SS_AUTODISARM) != 0 {
            return Err(Errno::EINVAL);
        }
        if on_stack {
            return Err(Errno::EPERM);
        }
        if flags & libc::SS_DISABLE == 0 && raw[2] < libc::MINSIGSTKSZ as u64 {
            return Err(Errno::ENOMEM);
        }
        Some(AltStack {
            sp: raw[0],
            flags,
            size: raw[2],
        })
    } else {
        None
    };
    if old != 0 {
        let cur = t.altstack;
        let flags = if on_stack {
            libc::SS_ONSTACK
        } else {
            cur.flags
        };
        t.mm.write_obj(old, &cur.sp)?;
        t.mm.write_obj(old + 8, &(flags as u32 as u64))?;
        t.mm.write_obj(old + 16, &cur.size)?;
    }
    if let Some(n) = new {
        t.altstack = if n.flags & libc::SS_DISABLE != 0 {
            AltStack::DISABLED
        } else {
            n
        };
    }
    Ok(0)
}

pub fn rt_sigreturn(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let r = match restore_frame(&t.mm, &t.regs) {
        Ok(r) => r,
        Err(_) => {
            t.force_signal(SigInfo::new(libc::SIGSEGV, libc::SI_KERNEL));
            return Err(Errno::EFAULT);
        }
    };
    if r.fp_addr != 0 {
        let mut fp = t
            .ctx
            .fpstate(t.mm.address_space().as_ref())
            .map(|f| f.0)
            .unwrap_or_default();
        if !fp.is_empty() && t.mm.copy_in(r.fp_addr, &mut fp).is_ok() {
            let _ = t
                .ctx
                .set_fpstate(t.mm.address_space().as_ref(), &platform::FpState(fp));
        }
    }
    t.regs = r.regs;
    t.regs_replaced = true;
    t.set_sigmask(r.mask);
    if !t.altstack.contains(t.regs.rsp) && r.alt.flags & libc::SS_DISABLE == 0 {
        t.altstack = r.alt;
    }
    Ok(0)
}

/// Sends `info` to the process `pid`.
fn send_process(t: &Task, pid: i32, info: SigInfo) -> Result<(), Errno> {
    let group = t
        .kernel
        .groups
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if info.signo() != 0 {
        group.send(info);
    }
    Ok(())
}

pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    if sig != 0 {
        check_sig(sig)?;
    }
    let info = SigInfo::user(sig, libc::SI_USER, t.pid, t.creds.uid);
    if pid > 0 {
        send_process(t, pid, info)?;
        return Ok(0);
    }
    // Process groups: 0 is the caller's, -1 every process but init.
    let pgid = match pid {
        0 => Some(t.group().pgid.load(std::sync::atomic::Ordering::Relaxed)),
        -1 => None,
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => Some(-p),
    };
    let groups: Vec<_> = t.kernel.groups.lock().values().cloned().collect();
    let mut found = false;
    for g in groups {
        let hit = match pgid {
            Some(pg) => g.pgid.load(std::sync::atomic::Ordering::Relaxed) == pg,
            None => g.pid != 1,
        };
        if hit {
            found = true;
            if sig != 0 {
                g.send(info);
            }
        }
    }
    if found {
        Ok(0)
    } else {
        Err(Errno::ESRCH)
    }
}

fn send_thread(t: &Task, tgid: Option<i32>, tid: i32, info: SigInfo) -> SysResult {
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(Errno::EINVAL);
    }
    let sig = info.signo();
    if sig != 0 {
        check_sig(sig)?;
    }
    let target = t
        .kernel
        .tasks
        .lock()
        .get(&tid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|g| g != target.group.pid) {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        target.send(info);
    }
    Ok(0)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let info = SigInfo::user(a[1] as i32, libc::SI_TKILL, t.pid, t.creds.uid);
    send_thread(t, None, a[0] as i32, info)
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let info = SigInfo::user(a[2] as i32, libc::SI_TKILL, t.pid, t.creds.uid);
    send_thread(t, Some(a[0] as i32), a[1] as i32, info)
}

fn queued_info(t: &Task, sig: i32, addr: u64) -> Result<SigInfo, Errno> {
    let mut raw = [0u8; 128];
    t.mm.copy_in(addr, &mut raw)?;
    let info = SigInfo::from_bytes(raw);
    // Only the kernel may claim SI_USER or kernel codes for another process.
    if info.code() >= 0 || info.code() == libc::SI_TKILL {
        return Err(Errno::EPERM);
    }
    let mut info = info;
    info.0[0..4].copy_from_slice(&sig.to_le_bytes());
    Ok(info)
}

pub fn rt_sigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = a[1] as i32;
    check_sig(sig)?;
    let info = queued_info(t, sig, a[2])?;
    send_process(t, a[0] as i32, info).map(|_| 0)
}

pub fn rt_tgsigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = a[2] as i32;
    check_sig(sig)?;
    let info = queued_info(t, sig, a[3])?;
    send_thread(t, Some(a[0] as i32), a[1] as i32, info)
}

/// The process a pidfd names (EBADF for any other file).
pub fn pidfd_pid(t: &Task, fd: i32) -> Result<i32, Errno> {
    let f = t.fds.get(fd)?;
    let any: &dyn std::any::Any = f.ops.as_ref().as_any();
    any.downcast_ref::<crate::fs::pidfd::PidFd>()
        .map(|p| p.pid)
        .ok_or(Errno::EBADF)
}

/// Opens a pidfd for process `pid` in the caller's fd table.
pub fn open_pidfd(t: &mut Task, pid: i32, nonblock: bool) -> Result<i32, Errno> {
    let ops = crate::fs::pidfd::PidFd::new(t.kernel.clone(), pid);
    let flags = libc::O_RDWR | if nonblock { libc::O_NONBLOCK } else { 0 };
    let f = crate::vfs::File::new(Box::new(ops), None, flags);
    t.fds.insert(f, true)
}

/// `pidfd_open(pid, flags)`.
pub fn pidfd_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, flags) = (a[0] as i32, a[1] as i32);
    if flags & !libc::O_NONBLOCK != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    if !t.kernel.procs.exists(pid) {
        // A thread that is not a process leader, or nothing at all.
        return Err(if t.kernel.tasks.lock().contains_key(&pid) {
            Errno::EINVAL
        } else {
            Errno::ESRCH
        });
    }
    open_pidfd(t, pid, flags != 0).map(|fd| fd as u64)
}

/// `pidfd_send_signal(pidfd, sig, info, flags)`.
pub fn pidfd_send_signal(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, sig, infop, flags) = (a[0] as i32, a[1] as i32, a[2], a[3]);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let pid = pidfd_pid(t, fd)?;
    if sig != 0 {
        check_sig(sig)?;
    }
    let info = if infop != 0 {
        let mut raw = [0u8; 128];
        t.mm.copy_in(infop, &mut raw)?;
        let info = SigInfo::from_bytes(raw);
        if info.signo() != sig {
            return Err(Errno::EINVAL);
        }
        // Only the kernel may claim SI_USER or kernel codes for another process.
        if pid != t.pid && (info.code() >= 0 || info.code() == libc::SI_TKILL) {
            return Err(Errno::EPERM);
        }
        info
    } else {
        SigInfo::user(sig, libc::SI_USER, t.pid, t.creds.uid)
    };
    if t.kernel.procs.ended(pid) {
        return Err(Errno::ESRCH);
    }
    send_process(t, pid, info).map(|_| 0)
}

/// Blocks the task until a signal or exit interrupts it (`Err`), or until
/// `deadline` (`Ok(true)`).
fn block_until_signal(_t: &Task, deadline: Option<Instant>) -> Result<bool, Errno> {
    crate::kernel::wait::sleep(deadline).map(|_| true)
}

pub fn pause(t: &mut Task, _a: [u64; 6]) -> SysResult {
    // Returns only when interrupted; never restarted under a handler.
    let _ = block_until_signal(t, None);
    Err(Errno::ERESTARTNOHAND)
}

pub fn rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.read_obj(a[0])?;
    let old = t.sigmask();
    t.set_sigmask(mask);
    t.saved_mask = Some(old);
    match block_until_signal(t, None) {
        Err(_) => Err(Errno::ERESTARTNOHAND),
        Ok(_) => Err(Errno::EINTR),
    }
}

pub fn rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] > 8 {
        return Err(Errno::EINVAL);
    }
    let st = t.handle.sig.lock();
    let set = (st.pending.set() | t.group().pending.lock().set()) & st.mask;
    drop(st);
    let bytes = set.to_le_bytes();
    t.mm.copy_out(a[0], &bytes[..a[1] as usize])?;
    Ok(0)
}

pub fn rt_sigtimedwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (set_addr, info_addr, ts_addr, size) = (a[0], a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let set = t.mm.read_obj::<u64>(set_addr)? & !UNBLOCKABLE;
    let deadline = if ts_addr != 0 {
        let ts: libc::timespec = t.mm.read_obj(ts_addr)?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        Some(Instant::now() + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let take = |t: &Task| -> Option<SigInfo> {
        let blocked = !set;
        let mut st = t.handle.sig.lock();
        st.pending
            .pop(blocked | UNBLOCKABLE)
            .or_else(|| t.group().pending.lock().pop(blocked | UNBLOCKABLE))
    };
    t.handle.sig.lock().waiting = set;
    let result = loop {
        if let Some(info) = take(t) {
            break Ok(info);
        }
        match block_until_signal(t, deadline) {
            Ok(true) => break Err(Errno::EAGAIN),
            Ok(false) => {}
            Err(e) => {
                // Woken: either one of ours arrived, or another signal.
                if let Some(info) = take(t) {
                    break Ok(info);
                }
                break Err(e);
            }
        }
    };
    t.handle.sig.lock().waiting = 0;
    let info = result?;
    if info_addr != 0 {
        t.mm.copy_out(info_addr, &info.0)?;
    }
    Ok(info.signo() as u64)
}

fn do_signalfd(t: &mut Task, fd: i32, mask_addr: u64, size: u64, flags: i32) -> SysResult {
    use crate::fs::signalfd::SignalFd;
    if size != 8 || flags & !(libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.read_obj(mask_addr)?;
    if fd != -1 {
        let f = t.fds.get(fd)?;
        let sfd = f
            .ops
            .as_ref()
            .as_any()
            .downcast_ref::<SignalFd>()
            .ok_or(Errno::EINVAL)?;
        sfd.mask
            .store(mask & !UNBLOCKABLE, std::sync::atomic::Ordering::Relaxed);
        return Ok(fd as u64);
    }
    let f = crate::vfs::File::new(
        Box::new(SignalFd::new(mask)),
        None,
        libc::O_RDONLY | (flags & libc::O_NONBLOCK),
    );
    t.fds
        .insert(f, flags & libc::SFD_CLOEXEC != 0)
        .map(|fd| fd as u64)
}

pub fn signalfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_signalfd(t, a[0] as i32, a[1], a[2], 0)
}

pub fn signalfd4(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_signalfd(t, a[0] as i32, a[1], a[2], a[3] as i32)
}
