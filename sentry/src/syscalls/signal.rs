//! Signal dispositions and masks (delivery comes with the signals subsystem).

use crate::errno::{Errno, SysResult};
use crate::kernel::task::{SigAction, Task};

/// sigaltstack's SS_AUTODISARM (not in the libc crate).
const SS_AUTODISARM: i32 = 1 << 31;

/// Signals that can never be caught or blocked.
const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (sig, act, oact, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 || !(1..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
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
    if oact != 0 {
        t.mm.write_obj(oact, &t.sigactions[idx])?;
    }
    if let Some(n) = new {
        t.sigactions[idx] = n;
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (how, set, oset, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let new = if set != 0 {
        let s: u64 = t.mm.read_obj(set)?;
        Some(match how {
            libc::SIG_BLOCK => t.sigmask | s,
            libc::SIG_UNBLOCK => t.sigmask & !s,
            libc::SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        })
    } else {
        None
    };
    if oset != 0 {
        t.mm.write_obj(oset, &t.sigmask)?;
    }
    if let Some(n) = new {
        t.sigmask = n & !UNBLOCKABLE;
    }
    Ok(0)
}

pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ss, old) = (a[0], a[1]);
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
        if flags & libc::SS_DISABLE == 0 && raw[2] < libc::MINSIGSTKSZ as u64 {
            return Err(Errno::ENOMEM);
        }
        Some((raw[0], flags, raw[2]))
    } else {
        None
    };
    if old != 0 {
        let (sp, flags, size) = t.sigaltstack;
        t.mm.write_obj(old, &sp)?;
        t.mm.write_obj(old + 8, &(flags as u64))?;
        t.mm.write_obj(old + 16, &size)?;
    }
    if let Some(n) = new {
        t.sigaltstack = if n.1 & libc::SS_DISABLE != 0 {
            (0, libc::SS_DISABLE, 0)
        } else {
            n
        };
    }
    Ok(0)
}

/// Delivers `sig` to the calling task. Until the signals subsystem exists,
/// only default actions are carried out: ignore or terminate.
pub(crate) fn signal_self(t: &mut Task, sig: i32) -> SysResult {
    if !(0..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    if sig == 0 {
        return Ok(0);
    }
    let action = t.sigactions[sig as usize - 1];
    let ignored_by_default = matches!(
        sig,
        libc::SIGCHLD | libc::SIGCONT | libc::SIGURG | libc::SIGWINCH
    );
    if action.handler == libc::SIG_IGN as u64
        || (action.handler == libc::SIG_DFL as u64 && ignored_by_default)
    {
        return Ok(0);
    }
    if action.handler != libc::SIG_DFL as u64 || t.sigmask & (1 << (sig - 1)) != 0 {
        log::warn!("signal {sig} has a handler or is blocked; delivery is not implemented yet");
        return Ok(0);
    }
    t.exit = Some(crate::kernel::task::ExitStatus::Signaled(sig));
    Ok(0)
}

pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != t.pid && pid != 0 && pid != -1 {
        return Err(Errno::ESRCH);
    }
    signal_self(t, a[1] as i32)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] as i32 != t.tid {
        return Err(if (a[0] as i32) <= 0 {
            Errno::EINVAL
        } else {
            Errno::ESRCH
        });
    }
    signal_self(t, a[1] as i32)
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) <= 0 || (a[1] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    if a[0] as i32 != t.pid || a[1] as i32 != t.tid {
        return Err(Errno::ESRCH);
    }
    signal_self(t, a[2] as i32)
}
